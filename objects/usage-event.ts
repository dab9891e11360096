// The usage event (DESIGN §7): one per call outcome, produced by the TenantMeter (same transaction
// as the admit/commit it describes), delivered at least once to the Leaderboard, which dedupes by
// (apiId, requestId). Validated with valibot on ingest: the Leaderboard trusts no producer.
import * as v from "valibot";
import { OUTCOMES } from "./shared/outcomes.ts";


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
});
export type UsageEvent = v.InferOutput<typeof UsageEventSchema>;
