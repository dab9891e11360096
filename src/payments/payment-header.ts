// Decoding and checking a client's PAYMENT-SIGNATURE (or v1-style X-PAYMENT) header: base64 JSON
// via @x402/core's codec, shape via valibot (an EIP-3009 `exact` payload, or a Permit2 `upto` one:
// upto-payload.ts), then an exact match of `accepted` against what we asked for, then expiry.
// Pure: no I/O, never throws; every failure is a typed reason with a stable code that the gateway
// answers as a 402 (property-tested in test/unit/payment-header.test.ts).
import * as v from "valibot";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { decodeBase64Json } from "./header-json.ts";
import { decodeUptoPayload, type UptoDecoded } from "./upto-payload.ts";

const HexAddress = v.pipe(v.string(), v.regex(/^0x[0-9a-fA-F]{40}$/));
const UintString = v.pipe(v.string(), v.regex(/^\d{1,78}$/));

const AcceptedSchema = v.object({
  x402Version: v.literal(2),
  accepted: v.object({ scheme: v.string() }),
});

const ExactEvmPayloadSchema = v.object({
  x402Version: v.literal(2),
  accepted: v.object({
    scheme: v.string(),
    network: v.string(),
    asset: v.string(),
    amount: v.string(),
    payTo: v.string(),
    maxTimeoutSeconds: v.number(),
    extra: v.optional(v.record(v.string(), v.unknown()), {}),
  }),
  payload: v.object({
    signature: v.pipe(v.string(), v.regex(/^0x[0-9a-fA-F]+$/)),
    authorization: v.object({
      from: HexAddress,
      to: HexAddress,
      value: UintString,
      validAfter: UintString,
      validBefore: UintString,
      nonce: v.pipe(v.string(), v.regex(/^0x[0-9a-fA-F]{64}$/)),
    }),
  }),
});

/** The normalized authorization of either scheme (for upto: value = the signed maximum, validBefore = deadline). */
export type Authorization = v.InferOutput<typeof ExactEvmPayloadSchema>["payload"]["authorization"];

export type DecodedPayment = { scheme: "exact"; payload: PaymentPayload; authorization: Authorization } | UptoDecoded;

export type HeaderProblem = {
  code: "invalid_payment_header" | "unsupported_x402_version" | "payment_mismatch" | "payment_expired";
  message: string;
};

/** The raw payment header, preferring the v2 name. */
export function paymentHeader(request: Request): string | null {
  return request.headers.get("payment-signature") ?? request.headers.get("x-payment");
}

export function decodePayment(header: string): DecodedPayment | HeaderProblem {
  if (header.length > 16 * 1024) return { code: "invalid_payment_header", message: "PAYMENT-SIGNATURE is too large" };
  let decoded: unknown;
  try {
    decoded = decodeBase64Json(header.trim());
  } catch {
    return { code: "invalid_payment_header", message: "PAYMENT-SIGNATURE is not base64-encoded JSON" };
  }
  if (
    typeof decoded === "object" &&
    decoded !== null &&
    "x402Version" in decoded &&
    (decoded as { x402Version: unknown }).x402Version !== 2
  ) {
    return { code: "unsupported_x402_version", message: "only x402Version 2 payments are accepted" };
  }
  const accepted = v.safeParse(AcceptedSchema, decoded);
  if (accepted.success && accepted.output.accepted.scheme === "upto") {
    const outer = v.safeParse(v.object({ ...ExactEvmPayloadSchema.entries, payload: v.unknown() }), decoded);
    if (outer.success) return decodeUptoPayload(decoded as PaymentPayload);
  }
  const parsed = v.safeParse(ExactEvmPayloadSchema, decoded);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const path = issue?.path?.map((p) => String(p.key)).join(".") ?? "";
    return {
      code: "invalid_payment_header",
      message: `PAYMENT-SIGNATURE payload is malformed${path ? ` at ${path}` : ""}`,
    };
  }
  return { scheme: "exact", payload: decoded as PaymentPayload, authorization: parsed.output.payload.authorization };
}

const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Null when `accepted` (and the authorization) match our requirements exactly; otherwise why not. */
export function mismatch(decoded: DecodedPayment, required: PaymentRequirements): HeaderProblem | null {
  const a = decoded.payload.accepted;
  const fail = (what: string): HeaderProblem => ({
    code: "payment_mismatch",
    message: `the payment's ${what} does not match this API's requirements`,
  });
  if (a.scheme !== required.scheme) return fail("scheme");
  if (a.network !== required.network) return fail("network");
  if (!sameAddress(a.asset, required.asset)) return fail("asset");
  if (a.amount !== required.amount) return fail("amount");
  if (!sameAddress(a.payTo, required.payTo)) return fail("payTo");
  if (!sameAddress(decoded.authorization.to, required.payTo)) return fail("authorization recipient");
  if (decoded.authorization.value !== required.amount) return fail("authorization value");
  if (decoded.scheme === "upto" && !sameAddress(decoded.permit2.permitted.token, required.asset)) {
    return fail("permitted token");
  }
  return null;
}

type Checked = DecodedPayment | HeaderProblem;

/**
 * The whole check of a presented header: decoded, matching `required`, not expired at `nowMs`
 * (EIP-3009 validBefore, seconds). A problem is the caller's: answered 402, never a 5xx.
 */
export function checkPayment(header: string, required: PaymentRequirements, nowMs: number): Checked {
  const decoded = decodePayment(header);
  if ("code" in decoded) return decoded;
  const problem = mismatch(decoded, required);
  if (problem) return problem;
  if (Number(decoded.authorization.validBefore) * 1000 <= nowMs) {
    return { code: "payment_expired", message: "the payment authorization has expired (validBefore is in the past)" };
  }
  return decoded;
}

/**
 * The payment's identity (docs/ARCHITECTURE.md §6): network, asset, payer and EIP-3009 nonce; an
 * upto payment's Permit2 nonce is marked `permit2-` (its own namespace, never read as EIP-3009's).
 */
export function paymentId(required: PaymentRequirements, decoded: DecodedPayment): string {
  const { from, nonce } = decoded.authorization;
  const key = decoded.scheme === "upto" ? `permit2-${nonce}` : nonce;
  return `${required.network}:${required.asset}:${from}:${key}`.toLowerCase();
}
