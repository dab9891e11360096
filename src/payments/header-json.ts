// The x402 v2 header encoding (docs/ARCHITECTURE.md §6: standard base64 of UTF-8 JSON) for the
// headers we write, PAYMENT-REQUIRED and PAYMENT-RESPONSE, and the one we read, PAYMENT-SIGNATURE.
// The same bytes and values as @x402/core's encoders and decoder (property-tested in
// test/unit/header-json.test.ts), through the runtime's native Buffer: @x402/core goes through
// a one-character string per byte, which cost ~0.13 ms per 4 KB challenge in Node, on every 402
// and every settled call, and ~0.1 ms of every paid call's decode before /verify leaves. Pure.
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

/** What @x402/core's decoder accepts: the base64 alphabet, then at most two `=`. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The JSON value of a base64 header, as @x402/core's decodePaymentSignatureHeader reads it (its
 * pattern, then atob's forgiving decode: padding only on whole quads, never one character past
 * one; then UTF-8 and JSON.parse). Throws wherever that throws.
 */
export function decodeBase64Json(header: string): unknown {
  if (!BASE64.test(header)) throw new SyntaxError("not base64");
  const padded = header.endsWith("=");
  if (padded && header.length % 4 !== 0) throw new SyntaxError("base64 padding on a partial quad");
  const bare = padded ? header.slice(0, header.endsWith("==") ? -2 : -1) : header;
  if (bare.length % 4 === 1) throw new SyntaxError("base64 one character past a quad");
  return JSON.parse(Buffer.from(bare, "base64").toString("utf8"));
}
