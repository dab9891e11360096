// Building the paid flow's responses: 402 challenges (PAYMENT-REQUIRED header + the same object
// as the body, plus our `code` and `requestId`), PAYMENT-RESPONSE headers, and replays of a
// stored response for an already settled payment.
import { Buffer } from "node:buffer";
import { encodePaymentRequiredHeader, encodePaymentResponseHeader } from "@x402/core/http";
import type { PaymentRequirements, SettleResponse } from "@x402/core/types";
import type { TenantConfig } from "../config/tenant-config.ts";
import { MAX_STORED_BODY_BYTES, type StoredResponse } from "../../objects/meter/types.ts";
import { paymentRequired } from "./requirements.ts";

/** The codes a 402 answer carries in its body's `code` (README "Payments": the 402 body). */
export type ChallengeCode =
  | "payment_required"
  | "invalid_payment_header"
  | "unsupported_x402_version"
  | "payment_mismatch"
  | "payment_expired"
  | "payment_invalid"
  | "spend_cap_exceeded"
  | "settlement_failed";

export function challenge(
  tenant: TenantConfig,
  requirements: PaymentRequirements,
  request: Request,
  requestId: string,
  code: ChallengeCode,
  message: string,
  extraHeaders: Record<string, string> = {},
  extensions?: Record<string, unknown>,
): Response {
  const required = paymentRequired(tenant, requirements, request.url, message, extensions);
  const headers = new Headers(extraHeaders);
  headers.set("payment-required", encodePaymentRequiredHeader(required));
  headers.set("content-type", "application/json; charset=utf-8");
  headers.set("cache-control", "no-store");
  headers.set("x-request-id", requestId);
  return new Response(JSON.stringify({ ...required, code, requestId }), { status: 402, headers });
}

/** PAYMENT-RESPONSE value: the settle result without the facilitator's free-text errorMessage. */
export function paymentResponseHeader(result: { success: boolean; transaction: string; network: string; payer?: string | undefined; errorReason?: string | undefined }): string {
  const clean: SettleResponse = { success: result.success, transaction: result.transaction, network: result.network as SettleResponse["network"] };
  if (result.payer) clean.payer = result.payer;
  if (result.errorReason) clean.errorReason = result.errorReason;
  return encodePaymentResponseHeader(clean);
}

/** The headers of a settled call's content: the tenant's, the meter's limits, PAYMENT-RESPONSE, no-store. */
export function settledHeaders(tenant: Headers, limits: Record<string, string>, paymentResponse: string): Headers {
  const headers = new Headers(tenant);
  for (const [name, value] of Object.entries(limits)) headers.set(name, value);
  headers.set("payment-response", paymentResponse);
  headers.set("cache-control", "no-store");
  return headers;
}

const KEPT_HEADERS = ["content-type", "content-language", "cache-control", "etag", "last-modified", "payment-response"];

export function toStored(status: number, headers: Headers, body: ArrayBuffer): StoredResponse {
  const kept: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = headers.get(name);
    if (value !== null) kept[name] = value;
  }
  const omitted = body.byteLength > MAX_STORED_BODY_BYTES;
  return { status, headers: kept, bodyBase64: omitted ? null : Buffer.from(body).toString("base64"), bodyOmitted: omitted };
}

export function replay(stored: StoredResponse, transaction: string | null, requestId: string): Response {
  const headers = new Headers(stored.headers);
  headers.set("x-payment-deduped", "true");
  headers.set("x-request-id", requestId);
  if (stored.bodyOmitted || stored.bodyBase64 === null) {
    headers.set("content-type", "application/json; charset=utf-8");
    const note = { settled: true, transaction, note: "this payment was already settled; its response was too large to keep for replay" };
    return new Response(JSON.stringify(note), { status: stored.status, headers });
  }
  return new Response(Buffer.from(stored.bodyBase64, "base64"), { status: stored.status, headers });
}
