// Pure limit math for the TenantMeter (docs/ARCHITECTURE.md §4): token buckets and the response
// headers that describe buckets and quotas (UTC windows: shared/time.ts). No I/O and no clock
// reads: every function takes `now` (ms since epoch) so the meter, the dispatcher and the tests
// agree on time.
//
// Headers (all values are integers; seconds are relative, never epoch timestamps):
//   RateLimit-Policy   IETF draft-ietf-httpapi-ratelimit-headers structured-field list, one item
//                      per active policy, in the order caller, global, daily, monthly:
//                        "caller";q=100;w=60, "global";q=10000;w=3600;burst=20000, "daily";q=1000;w=86400
//                      q = requests per window (the refill rate, q/w per second), w = window in
//                      seconds. A bucket whose burst differs from q carries `burst` (its capacity;
//                      an extension parameter, which the draft says clients ignore if unknown).
//                      Quotas are UTC calendar windows: w=86400 for daily, the current month's
//                      length in seconds for monthly.
//   RateLimit          The same items with r = units remaining now, t = seconds until that
//                      policy resets (bucket: until it is full again; quota: until the window ends):
//                        "caller";r=42;t=18, "global";r=9000;t=360
//   X-RateLimit-Limit      capacity (burst ?? requests) of the most restrictive bucket, i.e. the
//                          one with the lowest remaining (ties: the one that takes longer to refill).
//   X-RateLimit-Remaining  whole tokens left in that bucket (calls that would succeed right now).
//   X-RateLimit-Reset      seconds until that bucket is FULL again (0 when it already is). It is not
//                          "when may I retry": that is Retry-After.
//   X-Usage-Daily-Limit / X-Usage-Daily-Remaining       the tenant's dailyRequests and what is left today (UTC).
//   X-Usage-Monthly-Limit / X-Usage-Monthly-Remaining   the same for the UTC calendar month.
//   X-Usage-Reset      seconds until the soonest end of a limited quota window (next UTC midnight
//                      when a daily quota is set, else the next UTC month start).
//   Retry-After        refusals only: seconds (≥ 1) until the refused call could succeed (next
//                      token of every empty bucket, or the end of every exhausted quota window).
// A bucket header set is present only when a rate limit is configured, a usage set only when a
// quota is configured; with no limits at all there are no headers.
import type { RateLimitRule } from "../../src/config/tenant-config.ts";

/** Tolerance for float refill arithmetic: 0.9999999999 tokens is one token. */
const EPS = 1e-9;

// ---------------------------------------------------------------------------------------------
// Token buckets

export interface BucketState {
  /** Tokens in the bucket at `updatedMs` (fractional: refill is continuous). */
  tokens: number;
  updatedMs: number;
}

export function bucketCapacity(rule: RateLimitRule): number {
  return rule.burst ?? rule.requests;
}

/** A bucket nobody has touched is full; that is also what a missing row means. */
export function fullBucket(rule: RateLimitRule, now: number): BucketState {
  return { tokens: bucketCapacity(rule), updatedMs: now };
}

function clampTokens(tokens: number, capacity: number): number {
  if (!(tokens > 0)) return 0; // also catches NaN: a corrupt state refuses rather than admits
  return tokens > capacity ? capacity : tokens;
}

/**
 * The state at `now`. A clock that goes backwards credits nothing and keeps the later
 * timestamp, so the same interval is never credited twice once the clock recovers.
 */
export function refill(state: BucketState, rule: RateLimitRule, now: number): BucketState {
  const capacity = bucketCapacity(rule);
  const tokens = clampTokens(state.tokens, capacity);
  if (!(now > state.updatedMs)) return { tokens, updatedMs: state.updatedMs };
  // elapsed * requests is an exact integer for realistic values; one division keeps the error tiny.
  const added = ((now - state.updatedMs) * rule.requests) / (rule.windowSeconds * 1000);
  return { tokens: clampTokens(tokens + added, capacity), updatedMs: now };
}

/** True when the (already refilled) state holds at least one whole token. */
export function hasToken(state: BucketState): boolean {
  return state.tokens + EPS >= 1;
}

/** Removes one token from an already refilled state that `hasToken`. */
export function take(state: BucketState): BucketState {
  const tokens = state.tokens - 1;
  return { tokens: tokens > 0 ? tokens : 0, updatedMs: state.updatedMs };
}

/** Removes `n` tokens (a lease's grant, never more than the state holds whole). */
export function takeMany(state: BucketState, n: number): BucketState {
  const tokens = state.tokens - n;
  return { tokens: tokens > 0 ? tokens : 0, updatedMs: state.updatedMs };
}

export type TakeResult =
  | { ok: true; state: BucketState }
  | { ok: false; state: BucketState; retryAfterSeconds: number };

/** Refill to `now`, then take one token if there is one. A refusal leaves the bucket as refilled. */
export function tryTake(state: BucketState, rule: RateLimitRule, now: number): TakeResult {
  const refilled = refill(state, rule, now);
  if (hasToken(refilled)) return { ok: true, state: take(refilled) };
  return { ok: false, state: refilled, retryAfterSeconds: secondsUntilToken(refilled, rule) };
}

/** Whole tokens available now (what X-RateLimit-Remaining and `r` report). */
export function remainingTokens(state: BucketState): number {
  return Math.floor(state.tokens + EPS);
}

function secondsToRefill(deficit: number, rule: RateLimitRule): number {
  return Math.ceil((deficit * rule.windowSeconds) / rule.requests - EPS);
}

/** Retry-After for an empty bucket: whole seconds until one token is back, at least 1. */
export function secondsUntilToken(state: BucketState, rule: RateLimitRule): number {
  const deficit = 1 - state.tokens;
  return Math.max(1, secondsToRefill(deficit, rule));
}

/** Whole seconds until the bucket is full again; 0 when it already is. */
export function secondsUntilFull(state: BucketState, rule: RateLimitRule): number {
  const deficit = bucketCapacity(rule) - state.tokens;
  if (deficit <= EPS) return 0;
  return Math.max(1, secondsToRefill(deficit, rule));
}

/** Epoch ms at which a stored state would be full (used to prune rows that carry no information). */
export function fullAtMs(state: BucketState, rule: RateLimitRule): number {
  const deficit = Math.max(0, bucketCapacity(rule) - state.tokens);
  return state.updatedMs + Math.ceil((deficit * rule.windowSeconds * 1000) / rule.requests);
}

// ---------------------------------------------------------------------------------------------
// Headers

export interface BucketStatus {
  name: "caller" | "global";
  rule: RateLimitRule;
  /** State at `now`, after this call's token was taken (or not, on refusal). */
  state: BucketState;
}

export interface QuotaStatus {
  name: "daily" | "monthly";
  limit: number;
  /** Admitted calls in the current window, including this one when it was admitted. */
  used: number;
  windowSeconds: number;
  resetSeconds: number;
}

/** Structured-field sf-string: the names are fixed, but quoting stays correct if they change. */
function sfString(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function rateLimitPolicyHeader(buckets: readonly BucketStatus[], quotas: readonly QuotaStatus[]): string {
  const items: string[] = [];
  for (const b of buckets) {
    const capacity = bucketCapacity(b.rule);
    const burst = capacity !== b.rule.requests ? `;burst=${capacity}` : "";
    items.push(`${sfString(b.name)};q=${b.rule.requests};w=${b.rule.windowSeconds}${burst}`);
  }
  for (const q of quotas) items.push(`${sfString(q.name)};q=${q.limit};w=${q.windowSeconds}`);
  return items.join(", ");
}

export function rateLimitHeader(buckets: readonly BucketStatus[], quotas: readonly QuotaStatus[]): string {
  const items: string[] = [];
  for (const b of buckets) {
    items.push(`${sfString(b.name)};r=${remainingTokens(b.state)};t=${secondsUntilFull(b.state, b.rule)}`);
  }
  for (const q of quotas) items.push(`${sfString(q.name)};r=${quotaRemaining(q)};t=${q.resetSeconds}`);
  return items.join(", ");
}

function quotaRemaining(q: QuotaStatus): number {
  return Math.max(0, q.limit - q.used);
}

/** The bucket a client should watch: lowest remaining, ties broken by the longer refill. */
export function mostRestrictiveBucket(buckets: readonly BucketStatus[]): BucketStatus | undefined {
  let best: BucketStatus | undefined;
  for (const b of buckets) {
    if (!best) {
      best = b;
      continue;
    }
    const r = remainingTokens(b.state);
    const rb = remainingTokens(best.state);
    if (r < rb || (r === rb && secondsUntilFull(b.state, b.rule) > secondsUntilFull(best.state, best.rule))) best = b;
  }
  return best;
}

export interface MeterHeaderInput {
  buckets: readonly BucketStatus[];
  daily?: QuotaStatus | undefined;
  monthly?: QuotaStatus | undefined;
  /** Set on refusals only. */
  retryAfterSeconds?: number | undefined;
}

/** Every header the meter adds to a response; see the file header for their meaning. */
export function meterHeaders(input: MeterHeaderInput): Record<string, string> {
  const headers: Record<string, string> = {};
  const quotas: QuotaStatus[] = [];
  if (input.daily) quotas.push(input.daily);
  if (input.monthly) quotas.push(input.monthly);
  if (input.buckets.length > 0 || quotas.length > 0) {
    headers["RateLimit-Policy"] = rateLimitPolicyHeader(input.buckets, quotas);
    headers["RateLimit"] = rateLimitHeader(input.buckets, quotas);
  }
  const worst = mostRestrictiveBucket(input.buckets);
  if (worst) {
    headers["X-RateLimit-Limit"] = String(bucketCapacity(worst.rule));
    headers["X-RateLimit-Remaining"] = String(remainingTokens(worst.state));
    headers["X-RateLimit-Reset"] = String(secondsUntilFull(worst.state, worst.rule));
  }
  if (input.daily) {
    headers["X-Usage-Daily-Limit"] = String(input.daily.limit);
    headers["X-Usage-Daily-Remaining"] = String(quotaRemaining(input.daily));
  }
  if (input.monthly) {
    headers["X-Usage-Monthly-Limit"] = String(input.monthly.limit);
    headers["X-Usage-Monthly-Remaining"] = String(quotaRemaining(input.monthly));
  }
  if (quotas.length > 0) headers["X-Usage-Reset"] = String(Math.min(...quotas.map((q) => q.resetSeconds)));
  if (input.retryAfterSeconds !== undefined) {
    headers["Retry-After"] = String(Math.max(1, Math.ceil(input.retryAfterSeconds)));
  }
  return headers;
}
