// The shard's dedupe keys (docs/ARCHITECTURE.md §7): the TenantMeter delivers usage events at
// least once, so every (apiId, requestId) is claimed once in `seen`; a redelivery finds its key
// and is counted as a duplicate. An aggregated batch (objects/shared/usage-batch.ts) is claimed
// once by (apiId, batchId) in `batches`: one key per batch instead of one per call, which is what
// keeps its cost from growing with the shard (random request ids land all over `seen`'s B-tree).
// Event and batch keys are kept DEDUPE_RETENTION_MS after ingest (by ingest time, not event time:
// a late redelivery of an old event is still caught). The funnel's challenged-request keys
// (`challenge_seen`, challenge-keys.ts) are kept as long after the end of their event hour: they
// only tell apart challenges of that hour. All are pruned by the shard's housekeeping alarm.
// Synchronous: runs inside the ingest transaction.
import { DAY_MS } from "../shared/time.ts";
import { hourOf } from "./windows.ts";
import type { UsageEvent } from "../shared/usage-event.ts";
import * as SQL from "./sql.ts";

/** Dedupe keys are kept this long after ingest: redeliveries within it are always caught. */
export const DEDUPE_RETENTION_MS = 9 * DAY_MS;

/** Inserts the dedupe keys of `events`; returns the events whose key was new (first copy only). */
export function claimKeys(sql: SqlStorage, events: readonly UsageEvent[], now: number): UsageEvent[] {
  if (events.length === 0) return [];
  const keyOf = (apiId: string, requestId: string) => `${apiId}\u0000${requestId}`;
  const claimed = new Set<string>();
  const keys = JSON.stringify(events.map((e) => [e.apiId, e.requestId]));
  const rows = sql.exec<{ api_id: string; request_id: string }>(SQL.SEEN_INSERT_BATCH, now, keys);
  for (const r of rows) claimed.add(keyOf(r.api_id, r.request_id));
  const fresh: UsageEvent[] = [];
  for (const e of events) {
    const key = keyOf(e.apiId, e.requestId);
    if (claimed.delete(key)) fresh.push(e); // delete: a second copy in the batch is a duplicate
  }
  return fresh;
}

/** Claims an aggregated batch's id; true when it is new (apply it), false for a redelivery. */
export function claimBatch(sql: SqlStorage, apiId: string, batchId: string, now: number): boolean {
  return sql.exec(SQL.BATCH_CLAIM, apiId, batchId, now).toArray().length > 0;
}

/** True while any key is held: the shard keeps its housekeeping alarm only then. */
export function hasKeys(sql: SqlStorage): boolean {
  const any = "SELECT 1 FROM seen UNION ALL SELECT 1 FROM batches UNION ALL SELECT 1 FROM challenge_seen LIMIT 1";
  return sql.exec(any).toArray().length > 0;
}

/**
 * Drops the event and batch keys claimed more than DEDUPE_RETENTION_MS before `now`, and the
 * challenge keys of the hours that ended more than DEDUPE_RETENTION_MS before it.
 */
export function pruneKeys(sql: SqlStorage, now: number): void {
  sql.exec(SQL.SEEN_PRUNE, now - DEDUPE_RETENTION_MS);
  sql.exec(SQL.BATCHES_PRUNE, now - DEDUPE_RETENTION_MS);
  sql.exec(SQL.CHALLENGE_KEYS_PRUNE, hourOf(now - DEDUPE_RETENTION_MS));
}
