// The aggregated usage batch (docs/ARCHITECTURE.md §7): the producer's calls of one API folded
// into rows of like calls (same hour, caller, outcome, flags, latency bucket, transport) with counts and a
// money total, sent with a batch id unique per API. Challenges with a request fingerprint are
// folded per fingerprint too, so the Leaderboard can count challenged requests, not 402s. The
// Leaderboard applies each batch exactly once (`Leaderboard.ingestBatch`, dedupe by (apiId,
// batchId)), so a redelivery — the same batch with the same id — records nothing. Per-call SQL
// work and per-call dedupe keys disappear: the shard's cost is per row and per batch, not per
// call. A producer must resend a failed batch as it was (same id, same rows); a batch id must
// never be reused for other rows.
//
// Shared by producers (TenantMeter, benchmarks) and the consumer (the Leaderboard), like
// usage-event.ts. Both sides import this file and neither imports the other.
import * as v from "valibot";
import { LATENCY_BUCKETS, latencyBucket } from "./histogram.ts";
import { addAtomic } from "./money.ts";
import { OUTCOMES, TRANSPORTS } from "./outcomes.ts";
import { HOUR_MS } from "./time.ts";
import type { UsageEvent } from "./usage-event.ts";

/** Rows per batch at most (RangeError beyond): one batch stays well inside a DO's CPU budget. */
export const MAX_BATCH_ROWS = 1000;

const AtomicString = v.pipe(v.string(), v.regex(/^\d{1,78}$/));
const EpochMs = v.pipe(v.number(), v.integer(), v.minValue(0));

export const UsageRowSchema = v.object({
  /** Epoch hour of the row's calls (floor(ts / 1 h)). */
  hour: v.pipe(v.number(), v.integer(), v.minValue(0)),
  caller: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  lifecycle: v.picklist(OUTCOMES),
  countable: v.boolean(),
  billable: v.boolean(),
  /** Status ≥ 500. */
  error: v.boolean(),
  latencyBucket: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(LATENCY_BUCKETS - 1)),
  calls: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000_000_000)),
  /** Total settled for the row's calls, atomic units ("0" unless payment_settled). */
  billedAtomic: AtomicString,
  /** Earliest and latest call time in the row (ms). */
  firstTs: EpochMs,
  lastTs: EpochMs,
  /** Challenge rows: the challenged request's fingerprint (as UsageEvent.fingerprint). */
  fingerprint: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))),
  /** How the row's calls arrived (docs/ARCHITECTURE.md §12); absent = "http". */
  transport: v.optional(v.picklist(TRANSPORTS)),
});
export type UsageRow = v.InferOutput<typeof UsageRowSchema>;

/** Everything but the rows: validated first, so one bad row never costs the others. */
export const UsageBatchHeaderSchema = v.object({
  batchId: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  apiId: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  owner: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  directory: v.pipe(v.string(), v.maxLength(64)),
});

export interface UsageBatch extends v.InferOutput<typeof UsageBatchHeaderSchema> {
  rows: UsageRow[];
}

const SEP = "\u0000";

/**
 * Folds usage events of ONE API into a batch (the producer's side). Exact: the Leaderboard's
 * aggregates of the batch equal those of the events one by one (test/unit/usage-batch.test.ts).
 * Throws a RangeError when the rows would exceed MAX_BATCH_ROWS (split the events first).
 */
export function foldUsage(batchId: string, events: readonly UsageEvent[]): UsageBatch {
  const first = events[0];
  if (!first) throw new RangeError("foldUsage needs at least one event");
  const rows = new Map<string, UsageRow>();
  for (const e of events) {
    if (e.apiId !== first.apiId) throw new RangeError("foldUsage folds the events of one API");
    const hour = Math.floor(e.ts / HOUR_MS);
    const bucket = latencyBucket(e.latencyMs);
    const error = e.status >= 500;
    const fingerprint = e.lifecycle === "payment_challenged" ? e.fingerprint : undefined;
    const transport = e.transport ?? "http";
    const flags = [e.lifecycle, e.countable, e.billable, error];
    const key = [hour, e.caller, ...flags, bucket, fingerprint ?? "", transport].join(SEP);
    const row = rows.get(key);
    if (row) {
      row.calls += 1;
      row.billedAtomic = addAtomic(row.billedAtomic, e.billedAtomic);
      row.firstTs = Math.min(row.firstTs, e.ts);
      row.lastTs = Math.max(row.lastTs, e.ts);
      continue;
    }
    const { caller, lifecycle, countable, billable } = e;
    const billedAtomic = addAtomic("0", e.billedAtomic);
    const counts = { calls: 1, billedAtomic, firstTs: e.ts, lastTs: e.ts };
    const fresh: UsageRow = { hour, caller, lifecycle, countable, billable, error, latencyBucket: bucket, ...counts };
    if (e.transport !== undefined) fresh.transport = e.transport;
    if (fingerprint !== undefined) fresh.fingerprint = fingerprint;
    rows.set(key, fresh);
    if (rows.size > MAX_BATCH_ROWS) throw new RangeError(`a batch holds at most ${MAX_BATCH_ROWS} rows`);
  }
  // The newest event's owner and directory, as the per-event path keeps the latest by event time.
  const newest = events.reduce((a, b) => (b.ts >= a.ts ? b : a));
  return { batchId, apiId: first.apiId, owner: newest.owner, directory: newest.directory, rows: [...rows.values()] };
}
