// Validation of what the dispatcher hands the payment book (docs/ARCHITECTURE.md §4): the verified
// payment claim of a paid admit and the facilitator material kept for reconciliation. Both are
// checked before anything is written; a malformed one is a TypeError (a dispatcher bug, not a
// caller's mistake: the dispatcher built them from a verified payment).
import { ATOMIC_PATTERN } from "../shared/money.ts";
import { MAX_FINGERPRINT_LENGTH } from "./fingerprint.ts";
import type { PaidAdmitRequest, PaymentClaim, SettlementRetry } from "./types.ts";

/** Retry material larger than this is refused by admit and markPending (a payload is ~1 KiB). */
export const MAX_RETRY_BYTES = 64 * 1024;
const MAX_ID_LENGTH = 512;
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export function boundedString(value: unknown, max: number): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= max;
}

/** `value` when it is a finite number, else `fallback`. */
export function finiteOr(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

/** A non-empty string or null (transaction hashes, which facilitators sometimes send as ""). */
export function nonEmptyOrNull(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}

/**
 * Facilitator material as stored JSON; throws TypeError (nothing written) if it is missing a part,
 * not JSON or too large.
 */
export function retryJson(retry: SettlementRetry, what: string): string {
  if (!retry || typeof retry !== "object" || retry.paymentPayload == null || retry.paymentRequirements == null) {
    throw new TypeError(`${what} must carry paymentPayload and paymentRequirements`);
  }
  let json: string;
  try {
    const { paymentPayload, paymentRequirements } = retry;
    json = JSON.stringify({ paymentPayload, paymentRequirements } satisfies SettlementRetry);
  } catch {
    throw new TypeError(`${what} material is not JSON-serialisable`);
  }
  if (json.length > MAX_RETRY_BYTES) throw new TypeError(`${what} material is larger than ${MAX_RETRY_BYTES} bytes`);
  return json;
}

/** Stored material read back, or null when it is unreadable or lacks a part. */
export function readRetry(json: string | null): SettlementRetry | null {
  let material: SettlementRetry | null = null;
  try {
    material = JSON.parse(json ?? "null") as SettlementRetry | null;
  } catch {
    return null; // written by us as JSON; unreadable material leaves nothing to ask about
  }
  if (!material || material.paymentPayload == null || material.paymentRequirements == null) return null;
  return material;
}

/**
 * The idempotency keys of a paid admit, as stored (scoped to the payer): the Idempotency-Key as
 * given, the x402 payment-identifier prefixed so the two never collide.
 */
export function idempotencyKeysOf(req: PaidAdmitRequest): string[] {
  const keys: string[] = [];
  if (req.idempotencyKey !== undefined) keys.push(req.idempotencyKey);
  if (req.paymentIdentifier !== undefined) keys.push(`payment-identifier:${req.paymentIdentifier}`);
  return keys;
}

/** Validates the parts of a paid admit the meter stores; throws TypeError (nothing written). */
export function parseClaim(req: PaidAdmitRequest): PaymentClaim {
  const p = req.payment as Partial<PaymentClaim> | null;
  const bad = (what: string): never => {
    throw new TypeError(`invalid PaidAdmitRequest: ${what}`);
  };
  if (!p || typeof p !== "object") return bad("payment must be an object");
  if (!boundedString(p.id, MAX_ID_LENGTH)) return bad("payment.id must be a non-empty string");
  if (typeof p.amountAtomic !== "string" || !ATOMIC_PATTERN.test(p.amountAtomic)) {
    return bad("payment.amountAtomic must be a non-negative integer string");
  }
  for (const field of ["payer", "payTo", "network", "asset"] as const) {
    if (!boundedString(p[field], 256)) bad(`payment.${field} must be a non-empty string`);
  }
  if (typeof p.validBefore !== "number" || !Number.isFinite(p.validBefore) || p.validBefore < 0) {
    return bad("payment.validBefore must be seconds since epoch");
  }
  if (!boundedString(req.requestId, 256)) return bad("requestId must be a non-empty string");
  if (req.idempotencyKey !== undefined && !boundedString(req.idempotencyKey, MAX_IDEMPOTENCY_KEY_LENGTH)) {
    return bad(`idempotencyKey must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
  if (req.paymentIdentifier !== undefined && !boundedString(req.paymentIdentifier, MAX_IDEMPOTENCY_KEY_LENGTH)) {
    return bad(`paymentIdentifier must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
  if (req.fingerprint !== undefined && !boundedString(req.fingerprint, MAX_FINGERPRINT_LENGTH)) {
    return bad(`fingerprint must be 1-${MAX_FINGERPRINT_LENGTH} characters`);
  }
  return {
    id: p.id,
    amountAtomic: p.amountAtomic,
    payer: p.payer!,
    payTo: p.payTo!,
    network: p.network!,
    asset: p.asset!,
    validBefore: Math.floor(p.validBefore),
  };
}
