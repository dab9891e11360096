// Coalescing of the usage outbox (docs/ARCHITECTURE.md §4, §14): before the outbox sends usage
// to the Leaderboard, the aggregated batches waiting for it (one per applied dispatcher batch,
// i.e. 50 ms of one isolate) are merged into as few Leaderboard batches as their distinct rows
// allow (rows of like calls summed, mergeUsageRows; ≤ MAX_BATCH_ROWS rows each), so the shard's
// cost per call falls with the tenant's traffic instead of staying one row per call.
//
// Seal before send: the merge is written to the outbox, in one transaction, BEFORE anything is
// sent: the source rows are deleted and the merged batches inserted in their place (reusing the
// sources' seq numbers, so order is kept), each under a new delivery batch id and marked sealed.
// A sealed row is never merged again and is sent, and resent after a failure or a crash, exactly
// as stored: same id, same rows, so the Leaderboard's (apiId, batchId) dedupe stays exact. A
// crash before the seal commits leaves the sources as they were (they were never sent); after
// it, the sealed rows are durable. A lone source batch is sealed as it is (its own id kept).
// The outbox's delivery delay (usage-outbox.ts, 1 s after the first append) is what lets rows
// pile up; nothing waits longer than it did. Synchronous SQL over table outbox (kind 'usage').
import { mergeUsageRows, MAX_BATCH_ROWS, type UsageBatch } from "../shared/usage-batch.ts";

/** An outbox body that is an aggregated batch; `sealed` once it belongs to a delivery batch. */
interface QueuedBatch extends UsageBatch {
  sealed?: boolean;
}

/** Source rows merged by one seal at most (bounds its CPU when a backlog has built up). */
export const MAX_SEAL_SOURCE_ROWS = 20_000;

const SEALED_PREFIX = '{"sealed":true,';
const SELECT = "SELECT seq, body FROM outbox WHERE kind = 'usage' ORDER BY seq LIMIT ?";
const DELETE = "DELETE FROM outbox WHERE seq = ?";
const INSERT = "INSERT INTO outbox (seq, kind, body, created_ms) VALUES (?, 'usage', ?, ?)";

interface Group {
  seqs: number[];
  batches: QueuedBatch[];
}

function isBatch(p: unknown): p is QueuedBatch {
  return typeof p === "object" && p !== null && Array.isArray((p as { rows?: unknown }).rows);
}

/** The Leaderboard batches a group of sources becomes: merged and cut, or a lone source as it is. */
export function sealGroup(batches: readonly UsageBatch[], newId: () => string): UsageBatch[] {
  const { batchId, apiId, owner, directory, rows: firstRows } = batches[0]!;
  // Only the batch's own fields: the sealed mark is the outbox's (written first, see write()).
  if (batches.length === 1) return [{ batchId, apiId, owner, directory, rows: firstRows }];
  const rows = mergeUsageRows(batches.map((b) => b.rows));
  const out: UsageBatch[] = [];
  for (let i = 0; i < rows.length; i += MAX_BATCH_ROWS) {
    out.push({ batchId: newId(), apiId, owner, directory, rows: rows.slice(i, i + MAX_BATCH_ROWS) });
  }
  return out;
}

export class UsageCoalescer {
  constructor(
    private readonly sql: SqlStorage,
    private readonly transactionSync: <T>(fn: () => T) => T,
    private readonly newId: () => string = () => `meter:${crypto.randomUUID()}`,
  ) {}

  /**
   * Seals the unsealed batches among the first `limit` usage rows; returns the highest seq it
   * looked at (the outbox sends nothing beyond it), or null when no usage row waits.
   */
  seal(limit: number, now: number): number | null {
    return this.transactionSync(() => {
      const rows = this.sql.exec<{ seq: number; body: string }>(SELECT, limit).toArray();
      if (rows.length === 0) return null;
      const groups = new Map<string, Group>();
      let upTo = rows[0]!.seq;
      let sourceRows = 0;
      for (const r of rows) {
        // Sealed bodies are written with `sealed` first: skipped without parsing (a backlog of them
        // waits while the Leaderboard is down, and each is up to 1000 rows of JSON).
        if (r.body.startsWith(SEALED_PREFIX)) {
          upTo = r.seq;
          continue;
        }
        const parsed = JSON.parse(r.body) as unknown;
        if (isBatch(parsed) && !parsed.sealed) {
          if (sourceRows > 0 && sourceRows + parsed.rows.length > MAX_SEAL_SOURCE_ROWS) break;
          sourceRows += parsed.rows.length;
          this.add(groups, r.seq, parsed);
        }
        upTo = r.seq;
      }
      for (const g of groups.values()) this.write(g, now);
      return upTo;
    });
  }

  /** Batches merge only with batches of the same API, owner and directory (the batch header). */
  private add(groups: Map<string, Group>, seq: number, batch: QueuedBatch): void {
    const key = JSON.stringify([batch.apiId, batch.owner, batch.directory]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { seqs: [], batches: [] }));
    g.seqs.push(seq);
    g.batches.push(batch);
  }

  private write(g: Group, now: number): void {
    const sealed = sealGroup(g.batches, this.newId);
    for (const seq of g.seqs) this.sql.exec(DELETE, seq);
    // sealed.length ≤ sources (each source ≤ MAX_BATCH_ROWS rows), so every batch gets a source's seq.
    sealed.forEach((b, i) => {
      const body: QueuedBatch = { sealed: true, ...b };
      this.sql.exec(INSERT, g.seqs[i]!, JSON.stringify(body), now);
    });
  }
}
