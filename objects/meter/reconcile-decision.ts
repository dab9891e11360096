// Reconciliation decisions (docs/ARCHITECTURE.md §4): what to do with a payment whose settlement
// outcome is unknown, from what the facilitator answers. Pure, except `askVerify`/`askSettle`,
// which only turn the one facilitator client's throws (src/x402/facilitator.ts) into `{ ok: false }`.
//
// settlement_pending (our /settle timed out or failed on the network):
//   /verify unreachable                          → retry (hold once long past expiry)
//   nonce used                                   → commit (the transfer happened)
//   valid                                        → /settle: success or "used" → commit, else retry
//   invalid, not yet expired                     → retry (may be transient)
//   expired, reason proves the nonce unused      → release (can never settle now)
//   expired, any other reason                    → hold (operator resolves it)
// in_flight with retry material (orphaned: the dispatcher never committed nor released): the same,
// except that nothing is ever settled by us (the content may never have been sent): valid or
// provably unused → release.
// Why hold: x402's exact-EVM /verify checks validBefore BEFORE it simulates the transfer (where it
// would see a used nonce), so after expiry it cannot tell; releasing then could drop a real
// settlement from the ledger.
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import type { Facilitator, Settlement, Verification } from "../../src/x402/facilitator.ts";
import { provesNonceUnused, saysNonceUsed } from "../../src/x402/nonce-rule.ts";
import { GIVE_UP_AFTER_EXPIRY_MS, staleAtMs } from "./payment-rules.ts";
import type { SettlementRetry } from "./types.ts";

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
    if (now > validBefore * 1000 + GIVE_UP_AFTER_EXPIRY_MS) {
      return { action: "hold", reason: "facilitator unreachable long after the payment expired" };
    }
    return { action: "retry", reason: "facilitator unreachable" };
  }
  if (!verify.isValid && saysNonceUsed(verify.invalidReason)) return { action: "commit", transaction: known };
  if (input.phase === "in_flight") {
    // Unused right now, and the dispatcher that admitted it has had its time: it never settled.
    if (verify.isValid) {
      return { action: "release", reason: "orphaned in flight; the facilitator says the payment is still unused" };
    }
    if (provesNonceUnused(verify.invalidReason)) {
      return { action: "release", reason: `orphaned in flight; unused (${verify.invalidReason})` };
    }
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
// Facilitator answers as decision inputs

/** A /verify answer (parseVerification's output, or null when it was not one) as a VerifyOutcome. */
export function toVerifyOutcome(answer: Verification | null): VerifyOutcome {
  if (!answer) return { ok: false };
  const out: VerifyOutcome = { ok: true, isValid: answer.isValid };
  if (typeof answer.invalidReason === "string") out.invalidReason = answer.invalidReason;
  return out;
}

/** A /settle answer (parseSettlement's output, or null) as a SettleOutcome. */
export function toSettleOutcome(answer: Settlement | null): SettleOutcome {
  if (!answer) return { ok: false };
  const out: SettleOutcome = { ok: true, success: answer.success, transaction: answer.transaction };
  if (typeof answer.errorReason === "string") out.errorReason = answer.errorReason;
  return out;
}

/** Stored material as the facilitator client takes it (it was the dispatcher's decoded payload). */
function asked(material: SettlementRetry): [PaymentPayload, PaymentRequirements] {
  return [material.paymentPayload as PaymentPayload, material.paymentRequirements as PaymentRequirements];
}

/** /verify of stored material; any throw (FacilitatorUnavailable or a broken client) is `{ ok: false }`. */
export async function askVerify(facilitator: Facilitator, material: SettlementRetry): Promise<VerifyOutcome> {
  try {
    const answer = await facilitator.verify(...asked(material));
    return toVerifyOutcome(answer);
  } catch {
    return { ok: false };
  }
}

/** /settle of stored material; any throw (SettlementUnknown included) is `{ ok: false }`. */
export async function askSettle(facilitator: Facilitator, material: SettlementRetry): Promise<SettleOutcome> {
  try {
    const answer = await facilitator.settle(...asked(material));
    return toSettleOutcome(answer);
  } catch {
    return { ok: false };
  }
}
