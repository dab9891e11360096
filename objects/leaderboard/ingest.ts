// A shard's ingest (docs/ARCHITECTURE.md §7): validate a batch of usage events, claim their
// dedupe keys (dedupe.ts), claim their challenged requests (challenge-keys.ts), fold the fresh
// ones into per-hour aggregates (events.ts) and write
// them (aggregate-writes.ts; schema in sql.ts), keep the newest RECENT_EVENTS raw events and the
// ingest counters for operators. Synchronous over the shard's SQLite: the Durable Object runs `recordBatch` inside
// one transactionSync, so a batch is recorded whole or not at all.
import * as v from "valibot";
import { UsageEventSchema, type UsageEvent } from "../shared/usage-event.ts";
import { claimChallenges } from "./challenge-keys.ts";
import { claimKeys } from "./dedupe.ts";
import { writeAggregates } from "./aggregate-writes.ts";
import { aggregateFacts, eventFacts } from "./events.ts";
import * as SQL from "./sql.ts";

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: number;
}

export interface RecentEvents {
  items: UsageEvent[];
  counters: IngestResult;
}

/** Larger batches are refused (RangeError) so one call stays well inside a DO's CPU budget. */
export const MAX_INGEST_BATCH = 1000;
const RECENT_EVENTS = 10_000;

/** Splits a delivered batch into valid events and a count of invalid ones; throws on a non-batch. */
export function parseBatch(events: unknown): { valid: UsageEvent[]; rejected: number } {
  if (!Array.isArray(events)) throw new TypeError("ingest expects an array of usage events");
  if (events.length > MAX_INGEST_BATCH) {
    throw new RangeError(`ingest takes at most ${MAX_INGEST_BATCH} events per call; got ${events.length}`);
  }
  const valid: UsageEvent[] = [];
  let rejected = 0;
  for (const raw of events) {
    const parsed = v.safeParse(UsageEventSchema, raw);
    if (parsed.success) valid.push(parsed.output);
    else rejected += 1;
  }
  return { valid, rejected };
}

/** Records one parsed batch; call inside a transaction. */
export function recordBatch(
  sql: SqlStorage,
  valid: readonly UsageEvent[],
  rejected: number,
  now: number,
): IngestResult {
  const fresh = claimKeys(sql, valid, now);
  const facts = eventFacts(fresh);
  claimChallenges(sql, facts);
  writeAggregates(sql, aggregateFacts(facts));
  if (fresh.length > 0) {
    sql.exec(SQL.RECENT_INSERT_BATCH, JSON.stringify(fresh));
    sql.exec(SQL.RECENT_TRIM, RECENT_EVENTS);
  }
  const counts: IngestResult = { accepted: fresh.length, duplicates: valid.length - fresh.length, rejected };
  for (const [key, n] of Object.entries(counts)) if (n > 0) sql.exec(SQL.COUNTER_ADD, key, String(n));
  return counts;
}

/** Newest raw events of this shard (operator debugging), optionally of one API. */
export function readRecent(sql: SqlStorage, req: { apiId?: string; limit: number }): RecentEvents {
  const limit = Math.max(1, Math.min(1000, Math.floor(req.limit) || 100));
  const rows = req.apiId
    ? sql.exec<{ body: string }>(SQL.RECENT_FOR_API, req.apiId, Number.MAX_SAFE_INTEGER, limit)
    : sql.exec<{ body: string }>(SQL.RECENT_ALL, Number.MAX_SAFE_INTEGER, limit);
  const counters: IngestResult = { accepted: 0, duplicates: 0, rejected: 0 };
  for (const c of sql.exec<{ key: keyof IngestResult; value: string }>(SQL.COUNTERS)) counters[c.key] = Number(c.value);
  return { items: rows.toArray().map((r) => JSON.parse(r.body) as UsageEvent), counters };
}
