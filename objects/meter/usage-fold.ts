// Aggregated usage, the dispatcher → TenantMeter contract (docs/ARCHITECTURE.md §4, §14): an
// isolate folds its finished calls of one tenant into rows of like calls — same UTC hour, caller,
// outcome, status class, latency bucket and transport (and, for challenges, the challenged
// request's fingerprint, which the funnel counts once per caller and hour) — and sends one batch
// per interval with a batch id unique to the isolate. The meter applies each batch once
// (usage-aggregate.ts), so the per-call SQL work disappears while every total stays exact.
//
// Pure: the fold is a commutative-in-totals, order-stable merge — folding any split of a record
// list and merging the parts in order gives the fold of the whole (test/unit/usage-fold.test.ts).
// Caller labels: a row keeps the label of its earliest labelled call (ties keep the first seen).
import * as v from "valibot";
import { LATENCY_BUCKETS, latencyBucket } from "../shared/histogram.ts";
import { OUTCOMES, TRANSPORTS } from "../shared/outcomes.ts";
import { HOUR_MS } from "../shared/time.ts";
import { MAX_FINGERPRINT_LENGTH } from "./fingerprint.ts";
import type { Transport, UsageRecord } from "./types.ts";

/** Rows per batch at most: the Leaderboard takes batches of up to 1000 rows (usage-batch.ts). */
export const MAX_FOLD_ROWS = 1000;
const MAX_LABEL_LENGTH = 128;

const EpochMs = v.pipe(v.number(), v.integer(), v.minValue(0));

export const UsageAggregateRowSchema = v.object({
  /** Epoch hour of the row's calls (floor(ts / 1 h)). */
  hour: v.pipe(v.number(), v.integer(), v.minValue(0)),
  caller: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  outcome: v.picklist(OUTCOMES),
  /** floor(status / 100): 5 = a 5xx, counted as an error. */
  statusClass: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(5)),
  latencyBucket: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(LATENCY_BUCKETS - 1)),
  transport: v.optional(v.picklist(TRANSPORTS)),
  calls: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000_000_000)),
  firstTs: EpochMs,
  lastTs: EpochMs,
  /** payment_challenged rows: the challenged request's fingerprint (part of the row's key). */
  fingerprint: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_FINGERPRINT_LENGTH))),
  /** The label of the row's earliest labelled call, and that call's time. */
  label: v.optional(v.pipe(v.string(), v.maxLength(MAX_LABEL_LENGTH))),
  labelTs: v.optional(EpochMs),
});
export type UsageAggregateRow = v.InferOutput<typeof UsageAggregateRowSchema>;

export const UsageAggregateHeaderSchema = v.object({
  /** Unique per isolate and batch (isolate id + sequence); the meter applies an id once. */
  batchId: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
});

/** One interval's usage of one tenant from one isolate. */
export interface UsageAggregateBatch {
  batchId: string;
  rows: UsageAggregateRow[];
}

/** An open fold: rows by key. */
export type UsageFold = Map<string, UsageAggregateRow>;

const SEP = "\u0000";

export function transportOf(t: Transport | undefined): Transport {
  return t ?? "http";
}

function keyOf(r: Omit<UsageAggregateRow, "calls" | "firstTs" | "lastTs">): string {
  const { hour, caller, outcome, statusClass, latencyBucket: bucket, fingerprint } = r;
  return [hour, caller, outcome, statusClass, bucket, transportOf(r.transport), fingerprint ?? ""].join(SEP);
}

function statusClassOf(status: number): number {
  return Math.min(5, Math.max(1, Math.floor((Number.isFinite(status) ? status : 500) / 100)));
}

function usableFingerprint(r: UsageRecord): string | undefined {
  const fp = r.outcome === "payment_challenged" ? r.fingerprint : undefined;
  return typeof fp === "string" && fp.length > 0 && fp.length <= MAX_FINGERPRINT_LENGTH ? fp : undefined;
}

/** The one-call row of a record (its fold on its own). */
export function rowOf(r: UsageRecord): UsageAggregateRow {
  const ts = Math.max(0, Math.trunc(r.ts));
  const row: UsageAggregateRow = {
    hour: Math.floor(ts / HOUR_MS),
    caller: r.caller,
    outcome: r.outcome,
    statusClass: statusClassOf(r.status),
    latencyBucket: latencyBucket(r.latencyMs),
    transport: transportOf(r.transport),
    calls: 1,
    firstTs: ts,
    lastTs: ts,
  };
  const fingerprint = usableFingerprint(r);
  if (fingerprint !== undefined) row.fingerprint = fingerprint;
  if (typeof r.callerLabel === "string") {
    row.label = r.callerLabel.slice(0, MAX_LABEL_LENGTH);
    row.labelTs = ts;
  }
  return row;
}

/** Adds `row` (one call or many) into `fold`; returns false if it would need a new row past `maxRows`. */
export function addRow(fold: UsageFold, row: UsageAggregateRow, maxRows = Infinity): boolean {
  const key = keyOf(row);
  const have = fold.get(key);
  if (!have) {
    if (fold.size >= maxRows) return false;
    fold.set(key, { ...row });
    return true;
  }
  have.calls += row.calls;
  have.firstTs = Math.min(have.firstTs, row.firstTs);
  have.lastTs = Math.max(have.lastTs, row.lastTs);
  // Earliest labelled call wins; a tie keeps what was folded first.
  if (row.label !== undefined && (have.labelTs === undefined || row.labelTs! < have.labelTs)) {
    have.label = row.label;
    have.labelTs = row.labelTs!;
  }
  return true;
}

/** Folds records into rows (the pure core of the dispatcher's usage buffer). */
export function foldRecords(records: readonly UsageRecord[], into: UsageFold = new Map()): UsageFold {
  for (const r of records) addRow(into, rowOf(r));
  return into;
}

/** Merges folds in order (the fold of their records concatenated). */
export function mergeFolds(folds: readonly UsageFold[]): UsageFold {
  const out: UsageFold = new Map();
  for (const f of folds) for (const row of f.values()) addRow(out, row);
  return out;
}

/** Rows in a canonical order (tests compare folds with it). */
export function sortedRows(fold: UsageFold): UsageAggregateRow[] {
  return [...fold.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}
