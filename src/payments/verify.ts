// The verify phase of a paid call (docs/ARCHITECTURE.md §3, §6): ask the facilitator whether the
// presented payment is good, and read its answer into a tagged result. A payment the chain has
// already used is told apart from a bad one only when the presenter proves it holds the signed
// payment (local EIP-712 check): that is a retry of a settled payment, owed its stored response.
import type { PaymentRequirements } from "@x402/core/types";
import { ApiError } from "../http/errors.ts";
import { FacilitatorUnavailable, type Facilitator } from "../x402/facilitator.ts";
import { saysNonceUsed } from "../x402/nonce-rule.ts";
import type { DecodedPayment } from "./payment-header.ts";
import { signedByPayer } from "./signature.ts";

export type Verification =
  | { kind: "verified"; payer: string }
  /** The nonce is used on chain and the caller signed this payment: look it up in the meter. */
  | { kind: "already_used"; reason: string }
  | { kind: "invalid"; reason: string }
  /** Payments cannot be verified right now: nothing happened, nothing is charged. */
  | { kind: "unavailable"; error: ApiError };

/**
 * @x402/evm's upto diagnosis has no Permit2-nonce check: a permit whose nonce is used reads as a
 * failed simulation (or an invalid nonce). Such a payment may be a retry of one the meter settled;
 * replayKnown (paid-flow.ts) answers it only when the meter knows the payment, so nothing else
 * gets through this way.
 */
const UPTO_MAYBE_USED = new Set(["permit2_simulation_failed", "permit2_invalid_nonce"]);

function nonceMayBeUsed(decoded: DecodedPayment, reason: string | undefined): boolean {
  if (saysNonceUsed(reason)) return true;
  return decoded.scheme === "upto" && reason !== undefined && UPTO_MAYBE_USED.has(reason);
}

export async function verifyPayment(
  facilitator: Facilitator,
  decoded: DecodedPayment,
  requirements: PaymentRequirements,
): Promise<Verification> {
  let answer;
  try {
    // Asked together: /verify changes nothing, and /supported is usually cached (x402/supported.ts),
    // so a cold cache costs no extra round trip; an unsupported kind still wins over any answer.
    const [supported, verified] = await Promise.allSettled([
      facilitator.supports(requirements.scheme, requirements.network),
      facilitator.verify(decoded.payload, requirements),
    ]);
    if (supported.status === "rejected") throw supported.reason;
    if (!supported.value) {
      const message = `the facilitator does not settle ${requirements.scheme} payments on ${requirements.network}`;
      return { kind: "unavailable", error: new ApiError(503, "payments_unavailable", message) };
    }
    if (verified.status === "rejected") throw verified.reason;
    answer = verified.value;
  } catch (err) {
    if (!(err instanceof FacilitatorUnavailable)) throw err;
    const message = "the payment facilitator is unavailable; nothing was charged, retry later";
    const error = new ApiError(503, "facilitator_unavailable", message, undefined, { "retry-after": "5" });
    return { kind: "unavailable", error };
  }
  if (answer.isValid) return { kind: "verified", payer: (answer.payer ?? decoded.authorization.from).toLowerCase() };
  const reason = answer.invalidReason ?? "invalid";
  // Checked locally, because payment ids are public on chain: the signature proves the holder.
  if (nonceMayBeUsed(decoded, answer.invalidReason) && (await signedByPayer(decoded, requirements))) {
    return { kind: "already_used", reason };
  }
  return { kind: "invalid", reason };
}
