// TelemetrySink: the development stand-in for the Workers Analytics Engine dataset
// (docs/ARCHITECTURE.md §14 "Raw telemetry"). One SQLite-backed Durable Object ("local") keeps the
// newest SINK_CAPACITY data points exactly as they would have been written to Analytics Engine
// (index, blobs, doubles), so the operator's view decodes both sources with one function.
//
// Why a Durable Object and not the isolate's memory: `wrangler dev` and the test pool may serve
// requests from more than one isolate, and a restart would empty it; why its own object and not
// the Leaderboard's raw events: those are the Leaderboard's to keep or drop. It is a ring buffer:
// every append trims to the newest SINK_CAPACITY rows in the same transaction, so its storage is
// bounded however long `claw dev` runs. Only deployments without the TELEMETRY binding use it;
// production writes to Analytics Engine and never binds this class.
import { DurableObject } from "cloudflare:workers";

export const SINK_CAPACITY = 10_000;
export const SINK_INSTANCE = "local";
/** One append at most (the dispatcher's flush sends up to this many). */
export const MAX_APPEND = 1_000;

export interface SinkPoint {
  index1: string;
  blobs: string[];
  doubles: number[];
}

export type SinkRow = Record<string, string | number>;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS points (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  index1 TEXT NOT NULL,
  blobs TEXT NOT NULL,
  doubles TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS points_by_index ON points (index1, seq);`;

export class TelemetrySink extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
  }

  /**
   * Appends the points (at most MAX_APPEND) and trims to the newest SINK_CAPACITY; returns the size.
   * One INSERT for the whole batch (SQLite reads it with json_each) and no COUNT(*): seqs are
   * consecutive (AUTOINCREMENT, trimmed from the oldest end only, in one transaction with the
   * insert), so the size is the span between the first and the last. A per-row INSERT and a count
   * of up to 10,000 rows on every flush were a tenth of the dispatcher's CPU per free call under
   * load in `claw dev`, on the thread the calls use.
   */
  append(points: SinkPoint[]): number {
    const rows = points
      .slice(0, MAX_APPEND)
      .map((p) => [String(p.index1), JSON.stringify(p.blobs.map(String)), JSON.stringify(p.doubles.map(Number))]);
    return this.ctx.storage.transactionSync(() => {
      if (rows.length > 0) {
        this.sql.exec(
          "INSERT INTO points (index1, blobs, doubles) " +
            "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') " +
            "FROM json_each(?) ORDER BY key",
          JSON.stringify(rows),
        );
      }
      const span = this.sql
        .exec<{ lo: number | null; hi: number | null }>(
          "SELECT (SELECT MIN(seq) FROM points) AS lo, (SELECT MAX(seq) FROM points) AS hi",
        )
        .one();
      if (span.hi === null || span.lo === null) return 0;
      const keepFrom = Math.max(span.lo, span.hi - SINK_CAPACITY + 1);
      if (keepFrom > span.lo) this.sql.exec("DELETE FROM points WHERE seq < ?", keepFrom);
      return span.hi - keepFrom + 1;
    });
  }

  /** Newest first, as rows named like the SQL API's columns (index1, blob1…, double1…). */
  recent(req: { index?: string; limit: number }): SinkRow[] {
    const limit = Math.max(1, Math.min(SINK_CAPACITY, Math.trunc(req.limit)));
    const rows =
      req.index === undefined
        ? this.sql.exec<StoredRow>("SELECT index1, blobs, doubles FROM points ORDER BY seq DESC LIMIT ?", limit)
        : this.sql.exec<StoredRow>(
            "SELECT index1, blobs, doubles FROM points WHERE index1 = ? ORDER BY seq DESC LIMIT ?",
            req.index,
            limit,
          );
    return rows.toArray().map(columnsOf);
  }

  size(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM points").one().n;
  }
}

type StoredRow = { index1: string; blobs: string; doubles: string };

function columnsOf(r: StoredRow): SinkRow {
  const row: SinkRow = { index1: r.index1 };
  (JSON.parse(r.blobs) as string[]).forEach((b, i) => (row[`blob${i + 1}`] = b));
  (JSON.parse(r.doubles) as number[]).forEach((d, i) => (row[`double${i + 1}`] = d));
  return row;
}
