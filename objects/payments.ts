// Pure payment-lifecycle decisions for the TenantMeter (DESIGN §3 steps 4-7, §4, §9.2-4): what
// to keep for replay, when records expire, retry/backoff schedules, and what to do with a
// settlement whose outcome is unknown. No I/O and no clock reads: every function takes `now`.
//
// Reconciling a `settlement_pending` payment (the dispatcher's /settle timed out or failed on the
// network, so the transfer may or may not have happened):
//   1. /verify the stored payload.
//      - unreachable / non-200 / unparseable                          → retry later
//      - invalidReason says the authorization was used (nonce used)  → commit (the transfer happened)
//      - isValid                                                      → 2.
//      - invalid for another reason, payment not yet expired           → retry later (may be transient,
//                                                                         and the first transaction may still land)
//      - expired + a reason that proves the nonce is unused            → release (can never settle now)
//      - expired + any other reason                                    → hold
//   2. /settle it: success → commit with its transaction; a "used" reason → commit; anything else
//      (including errorReason "settlement_pending") → retry later (the next /verify tells).
// Why "hold": x402's exact-EVM /verify checks validBefore BEFORE it simulates the transfer (which
// is where it detects a used nonce), so once a payment has expired /verify answers
// `..._valid_before` whether or not the transfer happened. Releasing then could drop a real
// settlement from the ledger (invariant 4); holding keeps the reservation in the window it was
// made in (no effect on later windows) and asks an operator to look at the chain. In practice
// reconciliation starts seconds after the failed settle, long before validBefore, so hold is for
// a facilitator that was unreachable for the payment's whole remaining lifetime.
//
// Reconciling an orphaned `in_flight` payment (admitted with retry material, then neither
// committed nor released: the dispatcher's isolate died, or its commit RPC failed, somewhere
// between admit and commit — the dispatcher commits in waitUntil, after the response). It is
// checked IN_FLIGHT_CHECK_AFTER_MS after its admit, or earlier if its validBefore is close
// (`inFlightCheckAtMs`). The same /verify table, except that nothing is ever settled by us: the
// content may never have been sent, so a valid payment is not charged.
//      - unreachable                                                  → retry later (backoff, never
//                                                                        skipping the last chance)
//      - nonce used                                                    → commit (the dispatcher's settle
//                                                                        went through; the ledger gets it)
//      - isValid, or a reason that proves the nonce unused             → release (never settled: the payer
//                                                                        was not charged, content never sent)
//      - other reasons                                                 → as for settlement_pending: retry
//                                                                        until expiry, then release only if
//                                                                        provably unused, else hold
// "Hold" turns the record into an unresolved settlement_pending one (operator resolves it).
// A release here can race a dispatcher that is still alive and slow (its settle lands after the
// check): its commit then finds no record and records the settlement anyway ("late commit",
// see TenantMeter.commit), so the ledger still gets the row.
import { MAX_STORED_BODY_BYTES, type StoredResponse } from "./meter-types.ts";
import { provesNonceUnused, saysNonceUsed } from "../src/x402/nonce-rule.ts";

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
/** ... never sooner than this after the admit, even when validBefore is close (a live dispatcher is usually done by then). */
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

// ---------------------------------------------------------------------------------------------
// Stored responses

/** Decoded size of a base64 string (padding-aware; tolerant of missing padding). */
export function base64DecodedLength(b64: string): number {
  let len = b64.length;
  while (len > 0 && b64.charCodeAt(len - 1) === 61 /* = */) len -= 1;
  return Math.floor((len * 3) / 4);
}

/** Header bytes kept with a stored response; headers beyond it are dropped. */
export const MAX_STORED_HEADER_BYTES = 32 * 1024;

/**
 * Normalises what the dispatcher hands to `commit`: integer status (200 if absurd), string
 * headers only (bounded), and the body dropped (`bodyBase64: null, bodyOmitted: true`) when it is
 * larger than MAX_STORED_BODY_BYTES or not a string. Never throws.
 */
export function capStoredResponse(input: unknown): StoredResponse {
  const r = input && typeof input === "object" ? (input as Partial<StoredResponse>) : {};
  const status = typeof r.status === "number" && Number.isInteger(r.status) && r.status >= 100 && r.status <= 599 ? r.status : 200;
  const headers: Record<string, string> = {};
  let headerBytes = 0;
  if (r.headers && typeof r.headers === "object") {
    for (const [name, value] of Object.entries(r.headers)) {
      if (typeof value !== "string") continue;
      headerBytes += name.length + value.length;
      if (headerBytes > MAX_STORED_HEADER_BYTES) break;
      headers[name] = value;
    }
  }
  const body = typeof r.bodyBase64 === "string" ? r.bodyBase64 : null;
  if (body !== null && base64DecodedLength(body) <= MAX_STORED_BODY_BYTES) return { status, headers, bodyBase64: body, bodyOmitted: false };
  return { status, headers, bodyBase64: null, bodyOmitted: body !== null || r.bodyOmitted === true };
}

/** What a replay of a payment settled by reconciliation returns: its content was never sent. */
export function reconciledResponse(transaction: string | null): StoredResponse {
  const body = JSON.stringify({ settled: true, transaction });
  return { status: 200, headers: { "content-type": "application/json" }, bodyBase64: btoa(body), bodyOmitted: false };
}

// ---------------------------------------------------------------------------------------------
// Reconciliation decision

/** A /verify call: `ok: false` when it could not be made or answered (network, timeout, non-200, junk). */
export type VerifyOutcome = { ok: false } | { ok: true; isValid: boolean; invalidReason?: string };
/** A /settle call, same convention. */
export type SettleOutcome = { ok: false } | { ok: true; success: boolean; transaction?: string; errorReason?: string };

export type ReconcileAction =
  | { action: "settle" }
  | { action: "commit"; transaction: string | null }
  | { action: "release"; reason: string }
  | { action: "retry"; reason: string; transaction?: string }
  | { action: "hold"; reason: string };

export interface ReconcileInput {
  /**
   * What kind of record is reconciled: `settlement_pending` (default: our settle was sent, its
   * outcome unknown; a valid payment is settled) or `in_flight` (orphaned before any settle
   * outcome was recorded; a valid payment is released, never settled by us).
   */
  phase?: "settlement_pending" | "in_flight";
  /** ms since epoch. */
  now: number;
  /** EIP-3009 validBefore, seconds since epoch. */
  validBefore: number;
  verify: VerifyOutcome;
  /** Present once /settle was called (after a verify that said isValid). */
  settle?: SettleOutcome;
  /** A transaction hash already known for this payment (from the failed settle), if any. */
  knownTransaction?: string | null;
}

/** Past validBefore with a margin for clock skew between us, the facilitator and the chain. */
export function isExpired(now: number, validBeforeSeconds: number): boolean {
  return now > staleAtMs(validBeforeSeconds);
}

function nonEmpty(s: string | null | undefined): string | null {
  return typeof s === "string" && s.length > 0 ? s : null;
}

export function decideReconcile(input: ReconcileInput): ReconcileAction {
  const { verify, settle, now, validBefore } = input;
  const known = nonEmpty(input.knownTransaction);
  if (!verify.ok) {
    if (now > validBefore * 1000 + GIVE_UP_AFTER_EXPIRY_MS) return { action: "hold", reason: "facilitator unreachable long after the payment expired" };
    return { action: "retry", reason: "facilitator unreachable" };
  }
  if (!verify.isValid && saysNonceUsed(verify.invalidReason)) return { action: "commit", transaction: known };
  if (input.phase === "in_flight") {
    // Unused right now, and the dispatcher that admitted it has had its time: it never settled.
    if (verify.isValid) return { action: "release", reason: "orphaned in flight; the facilitator says the payment is still unused" };
    if (provesNonceUnused(verify.invalidReason)) return { action: "release", reason: `orphaned in flight; unused (${verify.invalidReason})` };
  }
  if (verify.isValid) {
    if (!settle) return { action: "settle" };
    if (!settle.ok) return { action: "retry", reason: "settle unreachable" };
    if (settle.success) return { action: "commit", transaction: nonEmpty(settle.transaction) ?? known };
    if (saysNonceUsed(settle.errorReason)) return { action: "commit", transaction: known };
    const pendingTx = nonEmpty(settle.transaction);
    const reason = `settle failed: ${settle.errorReason ?? "unknown"}`;
    return pendingTx ? { action: "retry", reason, transaction: pendingTx } : { action: "retry", reason };
  }
  const reason = verify.invalidReason ?? "invalid";
  if (!isExpired(now, validBefore)) return { action: "retry", reason: `verify: ${reason}` };
  if (provesNonceUnused(verify.invalidReason)) return { action: "release", reason: `expired unused (${reason})` };
  return { action: "hold", reason: `expired; the facilitator cannot tell whether it settled (${reason})` };
}

// ---------------------------------------------------------------------------------------------
// Facilitator responses (parsing only; the HTTP call lives in the meter)

export function parseVerifyResponse(json: unknown): VerifyOutcome {
  if (!json || typeof json !== "object") return { ok: false };
  const j = json as { isValid?: unknown; invalidReason?: unknown };
  if (typeof j.isValid !== "boolean") return { ok: false };
  return typeof j.invalidReason === "string" ? { ok: true, isValid: j.isValid, invalidReason: j.invalidReason } : { ok: true, isValid: j.isValid };
}

export function parseSettleResponse(json: unknown): SettleOutcome {
  if (!json || typeof json !== "object") return { ok: false };
  const j = json as { success?: unknown; transaction?: unknown; errorReason?: unknown };
  if (typeof j.success !== "boolean") return { ok: false };
  const out: SettleOutcome = { ok: true, success: j.success };
  if (typeof j.transaction === "string") out.transaction = j.transaction;
  if (typeof j.errorReason === "string") out.errorReason = j.errorReason;
  return out;
}

/** The body of /verify and /settle for stored retry material. */
export function facilitatorBody(paymentPayload: unknown, paymentRequirements: unknown): { x402Version: number; paymentPayload: unknown; paymentRequirements: unknown } {
  const v = paymentPayload && typeof paymentPayload === "object" ? (paymentPayload as { x402Version?: unknown }).x402Version : undefined;
  return { x402Version: typeof v === "number" ? v : 2, paymentPayload, paymentRequirements };
}
