// Building the paid flow's responses: 402 challenges (PAYMENT-REQUIRED header + the same object
// as the body, plus our `code` and `requestId`), PAYMENT-RESPONSE headers, and replays of a
// stored response for an already settled payment.
import { Buffer } from "node:buffer";
import type { PaymentRequirements, SettleResponse } from "@x402/core/types";
import type { TenantConfig } from "../config/tenant-config.ts";
import { MAX_STORED_BODY_BYTES, type StoredResponse } from "../../objects/meter/types.ts";
import { bodyWithRequestId, encodedChallenge, type EncodedChallenge } from "./challenge-cache.ts";
import { encodePaymentRequired, encodeSettleResponse } from "./header-json.ts";
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

/**
 * A 402. `extensions` builds the challenge's `extensions` object, asked only when the encoding is
 * not cached; `offer` is the signed offer among them (the cache's holder, challenge-cache.ts).
 */
export function challenge(
  tenant: TenantConfig,
  requirements: PaymentRequirements,
  request: Request,
  requestId: string,
  code: ChallengeCode,
  message: string,
  extraHeaders: Record<string, string> = {},
  extensions?: () => Record<string, unknown>,
  offer: object | null = null,
): Response {
  const build = (): EncodedChallenge => {
    const required = paymentRequired(tenant, requirements, request.url, message, extensions?.());
    return { header: encodePaymentRequired(required), bodyWithoutRequestId: JSON.stringify({ ...required, code }) };
  };
  // Only the plain 402 repeats; the others carry reasons of their own.
  const encoded =
    code === "payment_required"
      ? encodedChallenge(offer, challengeKey(tenant, requirements, request, message), build)
      : build();
  const headers = new Headers(extraHeaders);
  headers.set("payment-required", encoded.header);
  headers.set("content-type", "application/json; charset=utf-8");
  headers.set("cache-control", "no-store");
  headers.set("x-request-id", requestId);
  return new Response(bodyWithRequestId(encoded, requestId), { status: 402, headers });
}

/** Everything a 402's bytes depend on but the offer: tenant version (its listing), request, terms, message. */
function challengeKey(tenant: TenantConfig, requirements: PaymentRequirements, request: Request, message: string) {
  return `${tenant.slug}@${tenant.version}|${request.method} ${request.url}|${JSON.stringify(requirements)}|${message}`;
}

export interface SettleFacts {
  success: boolean;
  transaction: string;
  network: string;
  payer?: string | undefined;
  errorReason?: string | undefined;
  /** The settled amount of an upto payment (its actual charge). */
  amount?: string | undefined;
}

/** PAYMENT-RESPONSE value: the settle result without the facilitator's free-text errorMessage. */
export function paymentResponseHeader(result: SettleFacts): string {
  return encodeSettleResponse(buyerSettleResponse(result));
}

/** What PAYMENT-RESPONSE says, before encoding: the settle result without errorMessage. */
export function buyerSettleResponse(result: SettleFacts): SettleResponse {
  const clean: SettleResponse = {
    success: result.success,
    transaction: result.transaction,
    network: result.network as SettleResponse["network"],
  };
  if (result.payer) clean.payer = result.payer;
  if (result.errorReason) clean.errorReason = result.errorReason;
  if (result.amount !== undefined) clean.amount = result.amount;
  return clean;
}

/**
 * The headers of a settled call's content: the tenant's, the meter's limits, PAYMENT-RESPONSE,
 * no-store. `paymentResponse` is null for content kept while its settlement is pending (the
 * replay adds PAYMENT-RESPONSE once the transaction is known).
 */
export function settledHeaders(
  tenant: Headers,
  limits: Record<string, string>,
  paymentResponse: string | null,
): Headers {
  const headers = new Headers(tenant);
  for (const [name, value] of Object.entries(limits)) headers.set(name, value);
  if (paymentResponse !== null) headers.set("payment-response", paymentResponse);
  else headers.delete("payment-response");
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
  return {
    status,
    headers: kept,
    bodyBase64: omitted ? null : Buffer.from(body).toString("base64"),
    bodyOmitted: omitted,
  };
}

/** What a replay knows about its settlement, for PAYMENT-RESPONSE when the stored response has none. */
export interface ReplayedSettlement {
  transaction: string | null;
  network: string;
  payer: string;
}

/**
 * A settled payment's stored response, again, with `x-payment-deduped: true`. A response kept
 * while its settlement was pending (or a reconciled receipt) has no PAYMENT-RESPONSE of its own:
 * it gets one here from the transaction the meter learned, as the first answer would have had.
 */
export function replay(stored: StoredResponse, settlement: ReplayedSettlement, requestId: string): Response {
  const { transaction } = settlement;
  const headers = new Headers(stored.headers);
  headers.set("x-payment-deduped", "true");
  headers.set("x-request-id", requestId);
  if (!headers.has("payment-response") && transaction) {
    const { network, payer } = settlement;
    headers.set("payment-response", paymentResponseHeader({ success: true, transaction, network, payer }));
  }
  if (stored.bodyOmitted || stored.bodyBase64 === null) {
    headers.set("content-type", "application/json; charset=utf-8");
    const note = {
      settled: true,
      transaction,
      note: "this payment was already settled; its response was too large to keep for replay",
    };
    return new Response(JSON.stringify(note), { status: stored.status, headers });
  }
  return new Response(Buffer.from(stored.bodyBase64, "base64"), { status: stored.status, headers });
}
