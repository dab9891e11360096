// The usage-event contract between the TenantMeter (producer) and the Leaderboard (consumer),
// docs/ARCHITECTURE.md §7: one event per call outcome, produced by the TenantMeter (same
// transaction as the admit/commit it describes), delivered at least once to the Leaderboard,
// which dedupes by (apiId, requestId). Both sides import this file and neither imports the
// other. It owns the schema (valibot: the Leaderboard validates every event on ingest, it
// trusts no producer) and the mapping from a finished call to its event (`usageEventFor`), where
// the one rule that matters for ranking lives: only settled paid calls and served calls of free
// APIs are countable; challenges, refusals, replays and failures are recorded for metrics but
// never rank.
import * as v from "valibot";
import { isCountable, OUTCOME_TRAITS, OUTCOMES, type Outcome, TRANSPORTS } from "./outcomes.ts";

const AtomicString = v.pipe(v.string(), v.regex(/^\d{1,78}$/));

export const UsageEventSchema = v.object({
  requestId: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  /** ms since epoch of the call. */
  ts: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** Tenant slug. */
  apiId: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  /** Creator id of the tenant. */
  owner: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  directory: v.pipe(v.string(), v.maxLength(64)),
  /** Verified payer address (lowercase) for paid calls, or `ip:<hmac>` for free calls. */
  caller: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  status: v.pipe(v.number(), v.integer(), v.minValue(100), v.maxValue(599)),
  latencyMs: v.pipe(v.number(), v.minValue(0)),
  /** Price of the API at the time of the call, atomic units. */
  priceAtomic: AtomicString,
  /** What was actually settled for this call (0 unless lifecycle is payment_settled). */
  billedAtomic: AtomicString,
  lifecycle: v.picklist(OUTCOMES),
  /** Ranks: settled paid calls, and served calls of free APIs. Never challenges/refusals/replays. */
  countable: v.boolean(),
  /** Moved money: payment_settled only. */
  billable: v.boolean(),
  network: v.pipe(v.string(), v.maxLength(64)),
  env: v.picklist(["prod", "test"]),
  /**
   * payment_challenged only: the fingerprint of the challenged request (method, tenant path,
   * query; objects/meter/fingerprint.ts). The funnel counts a challenge once per (API, hour,
   * caller, fingerprint); an event without one counts every time (older producers).
   */
  fingerprint: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))),
  /** How the call arrived (docs/ARCHITECTURE.md §12); absent = "http". */
  transport: v.optional(v.picklist(TRANSPORTS)),
});
export type UsageEvent = v.InferOutput<typeof UsageEventSchema>;

// ---- mapping: a finished call → its usage event (the producer's side) -----------------------

export interface EventContext {
  apiId: string;
  owner: string;
  directory: string;
  network: string;
  env: "prod" | "test";
  /** The API's price at the time of the call, atomic units ("0" = free API). */
  priceAtomic: string;
}

export interface CallOutcome {
  requestId: string;
  ts: number;
  caller: string;
  status: number;
  latencyMs: number;
  lifecycle: Outcome;
  /** Settled amount for payment_settled; ignored otherwise. */
  billedAtomic?: string;
  /** The challenged request's fingerprint, for payment_challenged; ignored otherwise. */
  fingerprint?: string;
}

export function usageEventFor(outcome: CallOutcome, context: EventContext): UsageEvent {
  const billable = OUTCOME_TRAITS[outcome.lifecycle].billable;
  const event: UsageEvent = {
    requestId: outcome.requestId,
    ts: Math.max(0, Math.trunc(outcome.ts)),
    apiId: context.apiId,
    owner: context.owner,
    directory: context.directory,
    caller: outcome.caller.toLowerCase(),
    status: Math.min(599, Math.max(100, Math.trunc(outcome.status))),
    latencyMs: Math.max(0, outcome.latencyMs),
    priceAtomic: context.priceAtomic,
    billedAtomic: billable ? (outcome.billedAtomic ?? context.priceAtomic) : "0",
    lifecycle: outcome.lifecycle,
    countable: isCountable(outcome.lifecycle, context.priceAtomic),
    billable,
    network: context.network,
    env: context.env,
  };
  if (outcome.lifecycle === "payment_challenged" && outcome.fingerprint) event.fingerprint = outcome.fingerprint;
  return event;
}
