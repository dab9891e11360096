// The settle phase of a paid call (docs/ARCHITECTURE.md §3, §6): ask the facilitator to execute
// the transfer and read its answer into a tagged result. `unknown` (timeout, network, unreadable
// answer, or the facilitator's own `settlement_pending`: broadcast, receipt not seen in time) means
// the transfer may be on its way: the caller keeps the reservation as settlement_pending (with the
// broadcast transaction, if any) and the meter's reconciliation decides it.
import type { PaymentRequirements, SettleResponse } from "@x402/core/types";
import { SettlementUnknown, type Facilitator, type Settlement } from "../x402/facilitator.ts";
import type { DecodedPayment } from "./payment-header.ts";
import { buyerSettleResponse, paymentResponseHeader } from "./responses.ts";

export type SettleOutcome =
  /** `response`: what PAYMENT-RESPONSE says, encoded once, with the receipt (src/receipts/gateway.ts). */
  | { kind: "settled"; settlement: Settlement; response: SettleResponse }
  | { kind: "failed"; reason: string; paymentResponse: string }
  /** `transaction`: the hash the facilitator reported as broadcast, if it did. */
  | { kind: "unknown"; transaction: string | null };

/** x402's reason for "broadcast, but the receipt did not come in time" (@x402/evm ErrSettlementPending). */
const SETTLEMENT_PENDING = "settlement_pending";

export async function settlePayment(
  facilitator: Facilitator,
  decoded: DecodedPayment,
  requirements: PaymentRequirements,
  payer: string,
): Promise<SettleOutcome> {
  let settlement: Settlement;
  try {
    settlement = await facilitator.settle(decoded.payload, requirements);
  } catch (err) {
    if (err instanceof SettlementUnknown) return { kind: "unknown", transaction: null };
    throw err;
  }
  // Not a failure: the transfer is on its way, and releasing it would let a payment that lands
  // go unrecorded (docs/ARCHITECTURE.md §4).
  if (!settlement.success && settlement.errorReason === SETTLEMENT_PENDING) {
    return { kind: "unknown", transaction: settlement.transaction || null };
  }
  if (!settlement.success) {
    const paymentResponse = paymentResponseHeader({ ...settlement, success: false });
    return { kind: "failed", reason: settlement.errorReason ?? "unknown reason", paymentResponse };
  }
  // An upto settlement's PAYMENT-RESPONSE says what was actually charged.
  const amount = requirements.scheme === "upto" ? requirements.amount : undefined;
  return { kind: "settled", settlement, response: buyerSettleResponse({ ...settlement, payer, amount }) };
}
