// The settle phase's reading of /settle (src/payments/settle.ts, docs/ARCHITECTURE.md §3, §4):
// only a success is "settled"; a timeout or the facilitator's own `settlement_pending` (x402's
// answer when a broadcast transaction is not mined before its receipt wait ends) is "unknown",
// keeping the broadcast hash, because releasing it would leave a transfer that lands unrecorded;
// anything else is "failed". The facilitator here answers exactly what @x402/evm answers.
import { describe, expect, it } from "vitest";
import { decodePaymentResponseHeader } from "@x402/core/http";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { settlePayment } from "../../src/payments/settle.ts";
import type { DecodedPayment } from "../../src/payments/payment-header.ts";
import { type Facilitator, type Settlement, SettlementUnknown } from "../../src/x402/facilitator.ts";

const TX = `0x${"ab".repeat(32)}`;
const PAYER = `0x${"a".repeat(40)}`;
const requirements = { scheme: "exact", network: "eip155:31337" } as unknown as PaymentRequirements;
const decoded = { payload: { x402Version: 2 } as unknown as PaymentPayload } as DecodedPayment;

function answering(settle: () => Promise<Settlement>): Facilitator {
  return { settle, verify: async () => ({ isValid: true }), supports: async () => true };
}

describe("settlePayment", () => {
  it("success → settled with a PAYMENT-RESPONSE naming the payer and the transaction", async () => {
    const ok = answering(async () => ({ success: true, transaction: TX, network: "eip155:31337" }));
    const out = await settlePayment(ok, decoded, requirements, PAYER);
    expect(out.kind).toBe("settled");
    if (out.kind !== "settled") return;
    expect(out.response).toEqual({ success: true, transaction: TX, network: "eip155:31337", payer: PAYER });
  });

  it("settlement_pending (broadcast, not mined in time) → unknown with the broadcast hash", async () => {
    const pending = { success: false, errorReason: "settlement_pending", transaction: TX, network: "eip155:31337" };
    const withHash = await settlePayment(
      answering(async () => pending),
      decoded,
      requirements,
      PAYER,
    );
    expect(withHash).toEqual({ kind: "unknown", transaction: TX });
    const noHash = { ...pending, transaction: "" };
    const without = await settlePayment(
      answering(async () => noHash),
      decoded,
      requirements,
      PAYER,
    );
    expect(without).toEqual({ kind: "unknown", transaction: null });
  });

  it("a timeout or unreadable answer → unknown without a hash; any other failure → failed", async () => {
    const timeout = answering(async () => {
      throw new SettlementUnknown("POST /settle failed: TimeoutError");
    });
    expect(await settlePayment(timeout, decoded, requirements, PAYER)).toEqual({ kind: "unknown", transaction: null });
    const reverted = { success: false, errorReason: "invalid_transaction_state", transaction: TX, network: "x" };
    const out = await settlePayment(
      answering(async () => reverted),
      decoded,
      requirements,
      PAYER,
    );
    expect(out).toMatchObject({ kind: "failed", reason: "invalid_transaction_state" });
    if (out.kind !== "failed") return;
    expect(decodePaymentResponseHeader(out.paymentResponse)).toEqual(reverted);
  });
});
