// What the meter is asked to admit for a verified payment (docs/ARCHITECTURE.md §4, §6): the claim
// (identity, amount, parties, expiry), the optional Idempotency-Key and x402 payment-identifier,
// the request fingerprint and the facilitator material the meter keeps for reconciliation. Pure.
import type { PaymentRequirements } from "@x402/core/types";
import type { PaidAdmitRequest, PaymentClaim } from "../../objects/meter/types.ts";
import { paymentId, type DecodedPayment } from "./payment-header.ts";

const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

export function paymentClaim(
  requirements: PaymentRequirements,
  decoded: DecodedPayment,
  payer: string,
  validBefore: number,
): PaymentClaim {
  return {
    id: paymentId(requirements, decoded),
    amountAtomic: requirements.amount,
    payer,
    payTo: requirements.payTo.toLowerCase(),
    network: requirements.network,
    asset: requirements.asset.toLowerCase(),
    validBefore,
  };
}

export function paidAdmitRequest(
  requirements: PaymentRequirements,
  decoded: DecodedPayment,
  payer: string,
  request: {
    now: number;
    requestId: string;
    idempotencyKey: string | null;
    /** The x402 payment-identifier id (already checked: 16-128 characters). */
    paymentIdentifier: string | null;
    fingerprint: string;
  },
): PaidAdmitRequest {
  const idempotencyKey = request.idempotencyKey?.slice(0, MAX_IDEMPOTENCY_KEY_LENGTH);
  const paymentIdentifier = request.paymentIdentifier;
  return {
    caller: payer,
    now: request.now,
    requestId: request.requestId,
    payment: paymentClaim(requirements, decoded, payer, Number(decoded.authorization.validBefore)),
    ...(idempotencyKey ? { idempotencyKey } : {}),
    ...(paymentIdentifier ? { paymentIdentifier } : {}),
    retry: { paymentPayload: decoded.payload, paymentRequirements: requirements },
    fingerprint: request.fingerprint,
  };
}

/**
 * The lookup of a payment the chain already used: the meter answers a known id (replay, in
 * flight, or bound to another request) before it looks at any limit, so this consumes nothing.
 */
export function knownPaymentLookup(
  requirements: PaymentRequirements,
  decoded: DecodedPayment,
  now: number,
  requestId: string,
  fingerprint: string,
): PaidAdmitRequest {
  const payer = decoded.authorization.from.toLowerCase();
  return { caller: payer, now, requestId, payment: paymentClaim(requirements, decoded, payer, 0), fingerprint };
}
