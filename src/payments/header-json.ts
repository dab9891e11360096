// The x402 v2 header encoding (docs/ARCHITECTURE.md §6: standard base64 of UTF-8 JSON) for the
// headers we write: PAYMENT-REQUIRED and PAYMENT-RESPONSE. The same bytes as @x402/core's
// encoders (property-tested in test/unit/header-json.test.ts), through the runtime's native
// Buffer: @x402/core builds a one-character string per byte first, which cost ~0.13 ms per 4 KB
// challenge in Node, on every 402 and every settled call. Pure.
import { Buffer } from "node:buffer";
import type { PaymentRequired, SettleResponse } from "@x402/core/types";

function base64Json(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64");
}

export function encodePaymentRequired(required: PaymentRequired): string {
  return base64Json(required);
}

/** Like @x402/core's encoder, without `extensionResponses` (server-side detail, not the buyer's). */
export function encodeSettleResponse(response: SettleResponse): string {
  const buyerFacing: SettleResponse = { ...response };
  delete buyerFacing.extensionResponses;
  return base64Json(buyerFacing);
}
