// A shard's ingest of aggregated usage batches (objects/shared/usage-batch.ts,
// docs/ARCHITECTURE.md §7): validate the header and each row, claim the batch id (dedupe.ts) and
// its challenged requests (challenge-keys.ts, as the per-event path does), fold the valid rows
// into the same per-hour aggregates as events (events.ts) and write them
// (aggregate-writes.ts). Exactly once per (apiId, batchId): a redelivered batch records nothing.
// Counts are in calls: `accepted` = calls applied, `duplicates` = calls of a batch already
// applied, `rejected` = invalid rows (or every row of a batch whose header is invalid, which is
// not claimed). Aggregated batches carry no raw events, so `recentEvents` does not show them.
// Synchronous: the Durable Object runs `recordUsageBatch` inside one transactionSync.
import * as v from "valibot";
import { MAX_BATCH_ROWS, UsageBatchHeaderSchema, UsageRowSchema } from "../shared/usage-batch.ts";
import type { UsageBatch, UsageRow } from "../shared/usage-batch.ts";
import { writeAggregates } from "./aggregate-writes.ts";
import { claimChallenges } from "./challenge-keys.ts";
import { claimBatch } from "./dedupe.ts";
import { aggregateFacts, rowFacts } from "./events.ts";
import type { IngestResult } from "./ingest.ts";
import * as SQL from "./sql.ts";

export interface ParsedBatch {
  /** Null when the header is invalid: nothing is applied or claimed. */
  batch: UsageBatch | null;
  rejected: number;
}

/** Validates a delivered batch; throws on a value that is not a batch at all (as `ingest` does). */
export function parseUsageBatch(raw: unknown): ParsedBatch {
  if (typeof raw !== "object" || raw === null || !Array.isArray((raw as { rows?: unknown }).rows)) {
    throw new TypeError("ingestBatch expects a usage batch {batchId, apiId, owner, directory, rows: [...]}");
  }
  const rawRows = (raw as { rows: unknown[] }).rows;
  if (rawRows.length > MAX_BATCH_ROWS) {
    throw new RangeError(`ingestBatch takes at most ${MAX_BATCH_ROWS} rows per batch; got ${rawRows.length}`);
  }
  const header = v.safeParse(UsageBatchHeaderSchema, raw);
  if (!header.success) return { batch: null, rejected: rawRows.length };
  const rows: UsageRow[] = [];
  for (const r of rawRows) {
    const parsed = v.safeParse(UsageRowSchema, r);
    if (parsed.success) rows.push(parsed.output);
  }
  return { batch: { ...header.output, rows }, rejected: rawRows.length - rows.length };
}

/** Records one parsed batch (once per batch id); call inside a transaction. */
export function recordUsageBatch(sql: SqlStorage, parsed: ParsedBatch, now: number): IngestResult {
  const { batch, rejected } = parsed;
  const calls = batch ? batch.rows.reduce((t, r) => t + r.calls, 0) : 0;
  let counts: IngestResult = { accepted: 0, duplicates: 0, rejected };
  if (batch && claimBatch(sql, batch.apiId, batch.batchId, now)) {
    const facts = rowFacts(batch);
    claimChallenges(sql, facts);
    writeAggregates(sql, aggregateFacts(facts));
    counts = { ...counts, accepted: calls };
  } else if (batch) {
    counts = { ...counts, duplicates: calls };
  }
  for (const [key, n] of Object.entries(counts)) if (n > 0) sql.exec(SQL.COUNTER_ADD, key, String(n));
  return counts;
}
