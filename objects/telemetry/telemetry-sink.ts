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

  /** Appends the points (at most MAX_APPEND) and trims to the newest SINK_CAPACITY; returns the size. */
  append(points: SinkPoint[]): number {
    const batch = points.slice(0, MAX_APPEND);
    return this.ctx.storage.transactionSync(() => {
      for (const p of batch) {
        this.sql.exec(
          "INSERT INTO points (index1, blobs, doubles) VALUES (?, ?, ?)",
          String(p.index1),
          JSON.stringify(p.blobs.map(String)),
          JSON.stringify(p.doubles.map(Number)),
        );
      }
      const last = this.sql.exec<{ seq: number }>("SELECT MAX(seq) AS seq FROM points").one().seq ?? 0;
      this.sql.exec("DELETE FROM points WHERE seq <= ?", last - SINK_CAPACITY);
      return this.size();
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
