// A shard's export for the rollup (docs/ARCHITECTURE.md §7): for each requested window, the
// (API, payer) sums and the per-API sums of this shard, with the creator-linked callers' part of
// the latency histogram and each API's busiest hour without them. Only the coordinator knows who
// is linked (the D1 catalog), so it sends the pairs in; the shard sums, the coordinator scores.
// Synchronous: one consistent view of this shard.
import { sumBilledList } from "./snapshot-merge.ts";
import type { ApiWindowRow, PairRow, ShardExport, WindowExport } from "./snapshot-types.ts";
import * as SQL from "./sql.ts";
import type { WindowName, WindowRange } from "./windows.ts";

export interface ExportRequest {
  shard: string;
  ranges: WindowRange[];
  /** JSON array of [apiId, lowercase address] pairs that are creator-linked. */
  linked: string;
}

export function exportShard(sql: SqlStorage, req: ExportRequest): ShardExport {
  const windows = {} as Record<WindowName, WindowExport>;
  for (const r of req.ranges) windows[r.name] = exportWindow(sql, r, req.linked);
  type Meta = { api_id: string; owner: string; directory: string };
  const apis = sql.exec<Meta>(SQL.API_META_ALL).toArray();
  const firstSeen = sql.exec<{ payer: string; first_ms: number }>(SQL.FIRST_SEEN).toArray();
  return {
    shard: req.shard,
    apis: apis.map((r) => ({ apiId: r.api_id, owner: r.owner, directory: r.directory })),
    firstSeen: firstSeen.map((r) => ({ payer: r.payer, ms: r.first_ms })),
    windows,
  };
}

type PairSql = { api_id: string; payer: string; n: number; fails: number; billed: string | null };

const histOf = (row: Record<string, SqlStorageValue>) => SQL.HIST.map((c) => Number(row[c] ?? 0));

function exportWindow(sql: SqlStorage, r: WindowRange, linked: string): WindowExport {
  const pairRows =
    r.name === "overall"
      ? sql.exec<PairSql>(SQL.PAIRS_ALL_TIME)
      : sql.exec<PairSql>(SQL.PAIRS_IN_RANGE, r.fromHour, r.toHour);
  const pairs: PairRow[] = pairRows
    .toArray()
    .map((p) => ({ apiId: p.api_id, payer: p.payer, n: p.n, fails: p.fails, billed: sumBilledList(p.billed) }));
  const linkedHist = new Map<string, number[]>();
  for (const row of sql.exec(SQL.LINKED_HIST_IN_RANGE, linked, r.fromHour, r.toHour)) {
    linkedHist.set(String(row.api_id), histOf(row));
  }
  const peaks = new Map<string, number>();
  for (const row of sql.exec(SQL.PEAK_HOUR_IN_RANGE, linked, r.fromHour, r.toHour, r.fromHour, r.toHour)) {
    peaks.set(String(row.api_id), Math.max(0, Number(row.peak ?? 0)));
  }
  const apis: ApiWindowRow[] = [];
  for (const row of sql.exec(SQL.API_TOTALS_IN_RANGE, r.fromHour, r.toHour)) {
    const apiId = String(row.api_id);
    apis.push({
      apiId,
      events: Number(row.events),
      countable: Number(row.countable),
      fails: Number(row.fails),
      challenges: Number(row.challenges),
      refusals: Number(row.refusals),
      replays: Number(row.replays),
      errors: Number(row.errors),
      billed: sumBilledList(row.billed as string | null),
      hist: histOf(row),
      linkedHist: linkedHist.get(apiId) ?? SQL.HIST.map(() => 0),
      peakHour: peaks.get(apiId) ?? 0,
    });
  }
  return { pairs, apis };
}
