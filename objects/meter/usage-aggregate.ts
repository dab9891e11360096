// The TenantMeter's side of aggregated usage (docs/ARCHITECTURE.md §4, §14): a dispatcher batch
// (usage-fold.ts) is validated, claimed once by its batch id (table usage_batches, kept
// BATCH_RETENTION_MS, pruned by housekeeping), folded into the hourly stats, the per-transport
// counts and the distinct callers (what to write: usage-plan.ts), and forwarded to the
// Leaderboard as aggregated rows under the same batch id (usage-outbox.ts), all in one storage
// transaction: a batch counts whole or not at all, and a batch sent again counts nothing.
// Synchronous, like every meter module. Tables: usage_batches, usage_transport (and usage-stats'
// usage_hourly, caller_days, callers, meta 'callers_total').
import * as v from "valibot";
import { HOUR_MS } from "../shared/time.ts";
import { dayRowExpiresAt, type Housekeeping } from "./housekeeping.ts";
import { HIST_COLUMNS } from "./schema.ts";
import type { UsageAggregateRow } from "./usage-fold.ts";
import { MAX_FOLD_ROWS, UsageAggregateHeaderSchema, UsageAggregateRowSchema } from "./usage-fold.ts";
import type { UsageOutbox } from "./usage-outbox.ts";
import { leaderboardRows, planUsage } from "./usage-plan.ts";

/** A batch id is remembered this long: a dispatcher retries a failed batch within seconds. */
export const BATCH_RETENTION_MS = 24 * HOUR_MS;

export interface ApplyUsageResult {
  /** False when the batch id was applied before (nothing changed) or the header is invalid. */
  applied: boolean;
  /** Calls in the valid rows. */
  calls: number;
  /** Invalid rows (skipped; the rest of the batch still counts). */
  rejected: number;
}

const SQL_CLAIM = "INSERT INTO usage_batches (batch_id, seen_ms) VALUES (?, ?) ON CONFLICT DO NOTHING";
const SQL_HOURLY =
  `INSERT INTO usage_hourly (hour, calls, served, errors, refused, ${HIST_COLUMNS.join(", ")}) ` +
  `VALUES (${Array(5 + HIST_COLUMNS.length)
    .fill("?")
    .join(", ")}) ON CONFLICT (hour) DO UPDATE SET ` +
  ["calls", "served", "errors", "refused", ...HIST_COLUMNS].map((c) => `${c} = ${c} + excluded.${c}`).join(", ");
const SQL_TRANSPORT =
  "INSERT INTO usage_transport (hour, transport, calls) VALUES (?, ?, ?) " +
  "ON CONFLICT (hour, transport) DO UPDATE SET calls = calls + excluded.calls";
const SQL_CALLER_DAY = "INSERT OR IGNORE INTO caller_days (day, caller, label) VALUES (?, ?, ?)";
// A day first seen without a label takes the first label that comes (calls of one day may come
// in several batches, in any order).
const SQL_CALLER_DAY_LABEL = "UPDATE caller_days SET label = ? WHERE day = ? AND caller = ? AND label IS NULL";
const SQL_CALLER_EVER = "INSERT OR IGNORE INTO callers (caller, first_seen_ms) VALUES (?, ?)";
const SQL_CALLERS_TOTAL_ADD =
  "INSERT INTO meta (key, value) VALUES ('callers_total', ?) " +
  "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + CAST(excluded.value AS INTEGER)";

/** Valid rows of a delivered batch, or null for a value that is not a batch with a valid id. */
export function parseAggregate(raw: unknown): { batchId: string; rows: UsageAggregateRow[]; rejected: number } | null {
  if (typeof raw !== "object" || raw === null) return null;
  const header = v.safeParse(UsageAggregateHeaderSchema, raw);
  const rawRows = (raw as { rows?: unknown }).rows;
  if (!header.success || !Array.isArray(rawRows) || rawRows.length > MAX_FOLD_ROWS) return null;
  const rows: UsageAggregateRow[] = [];
  for (const r of rawRows) {
    const parsed = v.safeParse(UsageAggregateRowSchema, r);
    if (parsed.success) rows.push(parsed.output);
  }
  return { batchId: header.output.batchId, rows, rejected: rawRows.length - rows.length };
}

export class UsageAggregates {
  constructor(
    private readonly sql: SqlStorage,
    private readonly transactionSync: <T>(fn: () => T) => T,
    private readonly housekeeping: Housekeeping,
    private readonly events: UsageOutbox,
  ) {}

  /** Applies a dispatcher batch once per batch id. Throws TypeError on a value that is not a batch. */
  apply(raw: unknown, now: number): ApplyUsageResult {
    const parsed = parseAggregate(raw);
    if (!parsed) throw new TypeError("applyUsage expects {batchId, rows: [...]} with at most 1000 rows");
    const { batchId, rows, rejected } = parsed;
    const plan = planUsage(rows);
    const applied = this.transactionSync(() => {
      if (this.sql.exec(SQL_CLAIM, batchId, now).rowsWritten === 0) return false;
      for (const h of plan.hours) this.sql.exec(SQL_HOURLY, h.hour, h.calls, h.served, h.errors, h.refused, ...h.hist);
      for (const [hour, transport, calls] of plan.transports) this.sql.exec(SQL_TRANSPORT, hour, transport, calls);
      this.countCallers(plan.callerDays, now);
      this.events.emitBatch(batchId, (price) => leaderboardRows(rows, price));
      return true;
    });
    if (applied) this.housekeeping.ensure(now + BATCH_RETENTION_MS, now);
    return { applied, calls: plan.calls, rejected };
  }

  private countCallers(days: ReturnType<typeof planUsage>["callerDays"], now: number): void {
    let fresh = 0;
    for (const d of days) {
      if (this.sql.exec(SQL_CALLER_DAY, d.day, d.caller, d.label).rowsWritten === 0) {
        if (d.label !== null) this.sql.exec(SQL_CALLER_DAY_LABEL, d.label, d.day, d.caller);
        continue;
      }
      if (this.sql.exec(SQL_CALLER_EVER, d.caller, d.firstTs).rowsWritten > 0) fresh += 1;
      this.housekeeping.ensure(dayRowExpiresAt(d.day), now);
    }
    if (fresh > 0) this.sql.exec(SQL_CALLERS_TOTAL_ADD, String(fresh));
  }

  /** Batch ids past the retention go; returns when the oldest remaining one expires. */
  prune(now: number): number | null {
    this.sql.exec("DELETE FROM usage_batches WHERE seen_ms < ?", now - BATCH_RETENTION_MS);
    const oldest = this.sql.exec<{ t: number | null }>("SELECT MIN(seen_ms) AS t FROM usage_batches").one().t;
    return oldest !== null ? oldest + BATCH_RETENTION_MS : null;
  }
}
