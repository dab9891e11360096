// Writes a batch's per-hour aggregates (events.ts folds them) into the shard's SQLite (schema in
// sql.ts, docs/ARCHITECTURE.md §7). Per table: one read of the stored billed of the rows that
// moved money, and one upsert of every row, each taking the whole batch as one JSON array: a
// batch costs a fixed handful of statements whatever its size. Synchronous; call inside the
// ingest transaction.
import { addAtomic } from "../shared/money.ts";
import type { BatchAggregates } from "./events.ts";
import * as SQL from "./sql.ts";

/**
 * Writes a batch's aggregates: per table one read of the stored billed (only rows that moved
 * money) and one upsert of every row. billed is the new total when money moved, "0" to keep the
 * stored one (see the upserts in sql.ts): money is added with bigint here, never in SQL.
 */
export function writeAggregates(sql: SqlStorage, agg: BatchAggregates): void {
  const apiBilled = newTotals(sql, SQL.API_HOUR_BILLED, agg.apiHours, (a) => [a.apiId, a.hour]);
  const apiRows = agg.apiHours.map((a, i) => {
    const counts = [a.events, a.countable, a.fails, a.challenges, a.refusals, a.replays, a.errors];
    return [a.apiId, a.hour, ...counts, apiBilled[i], ...a.hist];
  });
  upsert(sql, SQL.API_HOURS_UPSERT, apiRows);
  const transportRows = agg.transports.map((t) => [t.apiId, t.hour, t.transport, t.events, t.countable]);
  upsert(sql, SQL.API_TRANSPORTS_UPSERT, transportRows);
  const payerBilled = newTotals(sql, SQL.PAYER_HOUR_BILLED, agg.payerHours, (p) => [p.apiId, p.payer, p.hour]);
  const payerRows = agg.payerHours.map((p, i) => [p.apiId, p.payer, p.hour, p.n, p.fails, payerBilled[i], ...p.hist]);
  upsert(sql, SQL.PAYER_HOURS_UPSERT, payerRows);
  const totalBilled = newTotals(sql, SQL.PAYER_TOTAL_BILLED, agg.payerTotals, (t) => [t.apiId, t.payer]);
  const totalRows = agg.payerTotals.map((t, i) => [t.apiId, t.payer, t.n, t.fails, totalBilled[i], t.firstMs]);
  upsert(sql, SQL.PAYER_TOTALS_UPSERT, totalRows);
  upsert(
    sql,
    SQL.API_META_UPSERT,
    agg.apis.map((m) => [m.apiId, m.owner, m.directory, m.ts]),
  );
}

function upsert(sql: SqlStorage, query: string, rows: unknown[][]): void {
  if (rows.length > 0) sql.exec(query, JSON.stringify(rows));
}

/** For each delta: its row's new billed total, or "0" when the delta moved no money. */
function newTotals<T extends { billed: string }>(
  sql: SqlStorage,
  query: string,
  deltas: readonly T[],
  keyOf: (d: T) => (string | number)[],
): string[] {
  const paying = deltas.filter((d) => d.billed !== "0");
  const stored: string[] = [];
  if (paying.length > 0) {
    const rows = sql.exec<{ i: number; billed: string }>(query, JSON.stringify(paying.map(keyOf)));
    for (const r of rows) stored[r.i] = r.billed;
  }
  let next = 0;
  return deltas.map((d) => (d.billed === "0" ? "0" : addAtomic(stored[next++] ?? "0", d.billed)));
}
