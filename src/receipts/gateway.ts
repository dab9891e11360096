// Where the call path meets offer-receipt (docs/ARCHITECTURE.md §3, §6): the signed offer a 402
// carries and the signed receipt a settled call's PAYMENT-RESPONSE carries, both for the URL the
// 402's `resource.url` names. The receipt is kept with the stored response (so a replay returns
// the same one) and with the ledger row (earnings and the dashboard show it). No signing key: both
// are null and nothing changes.
import type { PaymentPayload, PaymentRequirements, SettleResponse } from "@x402/core/types";
import type { CallContext } from "../gateway/context.ts";
import { offerExtension, receiptExtension, withReceipt, type ReceiptExtension } from "./issue.ts";
import { receiptSigner } from "./signer.ts";

/** `{"offer-receipt": …}` for a 402 asking `requirements`, or null. */
export function challengeOffer(
  call: CallContext,
  requirements: PaymentRequirements,
  request: Request,
): Promise<Record<string, unknown> | null> {
  return offerExtension(receiptSigner(call.config.receipts), requirements, request.url);
}

/**
 * Readies the receipt's signature while the caller waits on /settle: a nonce is made a turn later,
 * once the settle request is out (ecdsa.ts), so signing after the answer is only the scalar step.
 */
export function prepareReceipt(call: CallContext): void {
  receiptSigner(call.config.receipts)?.prepare();
}

export interface SettledReceipt {
  /** PAYMENT-RESPONSE with the receipt in `extensions["offer-receipt"]` (unchanged without one). */
  paymentResponse: string;
  /** The signed receipt as JSON, for the ledger row; null without one. */
  receipt: string | null;
}

/** Signs the receipt of a settled payment and encodes its PAYMENT-RESPONSE with it (once). */
export async function settledReceipt(
  call: CallContext,
  request: Request,
  settle: SettleResponse,
  settled: { payer: string; network: string; transaction: string },
  paid: { payload: PaymentPayload; requirements: PaymentRequirements },
): Promise<SettledReceipt> {
  const signer = receiptSigner(call.config.receipts);
  const ext: ReceiptExtension | null = await receiptExtension(signer, {
    resourceUrl: request.url,
    ...settled,
    paymentPayload: paid.payload,
    requirements: paid.requirements,
  });
  return { paymentResponse: withReceipt(settle, ext), receipt: ext ? JSON.stringify(ext.info.receipt) : null };
}
