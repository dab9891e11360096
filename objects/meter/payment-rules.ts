// Pure schedules of the payment book (docs/ARCHITECTURE.md §4): how long each payment record
// lives, when an in-flight payment is presumed orphaned, and the backoff of reconciliation and
// of the outbox drainer. No I/O and no clock reads: every function takes `now`.

/** An in-flight payment can never settle after validBefore; it is released this long after it. */
export const STALE_GRACE_MS = 60_000;
/**
 * An in-flight payment still neither committed nor released this long after its admit is
 * presumed orphaned and checked with the facilitator. Why 40 s: the dispatcher's path from admit
 * to a settle answer is the tenant call (milliseconds for datasets) plus /settle, whose timeout
 * is 30 s (src/x402/facilitator.ts), and its commit normally lands milliseconds after that;
 * 40 s covers the worst case with room to spare, yet comes before the last useful moment of a
 * standard payment (x402 clients sign validBefore = now + maxTimeoutSeconds = 60 s, whose last
 * chance is 50 s after signing), leaving a few backoff retries if the facilitator blips.
 */
export const IN_FLIGHT_CHECK_AFTER_MS = 40_000;
/**
 * ... never sooner than this after the admit, even when validBefore is close (a live dispatcher
 * is usually done by then).
 */
export const IN_FLIGHT_MIN_CHECK_MS = 5_000;
/**
 * The last moment before validBefore at which /verify still tells a used nonce from an unused
 * one: x402's exact-EVM verify refuses a payment expiring within 6 s (`..._valid_before`)
 * before it looks at the nonce; 10 s leaves a margin for clock skew and the call itself.
 */
export const LAST_CHANCE_BEFORE_EXPIRY_MS = 10_000;
/** A verify that keeps failing this long after validBefore stops being retried (hold). */
export const GIVE_UP_AFTER_EXPIRY_MS = 7 * 86_400_000;
/** Settled records (and their stored responses) are kept at least this long for replays. */
export const MIN_SETTLED_RETENTION_MS = 24 * 3_600_000;
/** ... and at most this long, even for a payment whose validBefore is further away. */
export const MAX_SETTLED_RETENTION_MS = 7 * 86_400_000;
/** Idempotency keys are kept this long after first use. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3_600_000;

// ---------------------------------------------------------------------------------------------
// Record lifetimes

/** When an in-flight record can be released by housekeeping: validBefore (s) + grace. */
export function staleAtMs(validBeforeSeconds: number): number {
  return validBeforeSeconds * 1000 + STALE_GRACE_MS;
}

/**
 * When a settled record may be deleted. It must answer replays while the payment could still be
 * presented (until validBefore; after that /verify refuses it before the meter is asked), and at
 * least a day in any case, but no more than a week.
 */
export function settledPruneAtMs(settledAtMs: number, validBeforeSeconds: number): number {
  const wanted = validBeforeSeconds * 1000 + STALE_GRACE_MS;
  return Math.min(Math.max(wanted, settledAtMs + MIN_SETTLED_RETENTION_MS), settledAtMs + MAX_SETTLED_RETENTION_MS);
}

// ---------------------------------------------------------------------------------------------
// Backoff

/** Outbox flush retry delay after `failures` consecutive failed batches: 1 s doubling to 60 s. */
export function flushBackoffMs(failures: number): number {
  const n = Math.max(1, Math.floor(failures));
  return Math.min(60_000, 1000 * 2 ** Math.min(n - 1, 10));
}

/** Reconciliation delay before attempt `attempts + 1`: 2 s doubling to 5 min. */
export function reconcileBackoffMs(attempts: number): number {
  const n = Math.max(0, Math.floor(attempts));
  return Math.min(300_000, 2000 * 2 ** Math.min(n, 10));
}

/** The last moment at which /verify can still see whether the nonce was used (ms). */
export function lastChanceAtMs(validBeforeSeconds: number): number {
  return validBeforeSeconds * 1000 - LAST_CHANCE_BEFORE_EXPIRY_MS;
}

/**
 * When to try reconciling next: after the backoff, but never skipping the last useful moment
 * before validBefore (10 s before it, while /verify can still see a used nonce).
 */
export function nextReconcileAtMs(now: number, attempts: number, validBeforeSeconds: number): number {
  const at = now + reconcileBackoffMs(attempts);
  const lastChance = lastChanceAtMs(validBeforeSeconds);
  return lastChance > now && at > lastChance ? lastChance : at;
}

/**
 * When an in-flight payment admitted at `reservedAtMs` is first checked for being orphaned:
 * IN_FLIGHT_CHECK_AFTER_MS after the admit, or at its last chance if that comes sooner, but not
 * sooner than IN_FLIGHT_MIN_CHECK_MS after the admit.
 */
export function inFlightCheckAtMs(reservedAtMs: number, validBeforeSeconds: number): number {
  const wanted = Math.min(reservedAtMs + IN_FLIGHT_CHECK_AFTER_MS, lastChanceAtMs(validBeforeSeconds));
  return Math.max(reservedAtMs + IN_FLIGHT_MIN_CHECK_MS, wanted);
}
