// The payment of an MCP tool call (docs/ARCHITECTURE.md §12): `params._meta["x402/payment"]`, a
// PaymentPayload object, checked for shape here (valibot; outside input) and re-encoded as the
// PAYMENT-SIGNATURE header value, so the gateway's one paid flow verifies it like any HTTP payment.
import * as v from "valibot";
import { encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentPayload } from "@x402/core/types";
import { PAYMENT_META } from "./result.ts";

const Accepted = v.looseObject({
  scheme: v.pipe(v.string(), v.maxLength(64)),
  network: v.pipe(v.string(), v.maxLength(128)),
  amount: v.pipe(v.string(), v.regex(/^\d{1,78}$/)),
  asset: v.pipe(v.string(), v.maxLength(128)),
  payTo: v.pipe(v.string(), v.maxLength(128)),
  maxTimeoutSeconds: v.number(),
});

const Payload = v.looseObject({
  x402Version: v.number(),
  accepted: Accepted,
  payload: v.record(v.string(), v.unknown()),
});

export type PaymentMeta =
  | { kind: "none" }
  | { kind: "header"; header: string }
  | { kind: "malformed"; message: string };

/** What the `_meta` of a tool call says about payment. */
export function paymentOfMeta(meta: unknown): PaymentMeta {
  if (meta === null || typeof meta !== "object") return { kind: "none" };
  const raw = (meta as Record<string, unknown>)[PAYMENT_META];
  if (raw === undefined || raw === null) return { kind: "none" };
  const parsed = v.safeParse(Payload, raw);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const where = issue?.path?.map((p) => String(p.key)).join(".") || "x402/payment";
    return { kind: "malformed", message: `_meta["x402/payment"] is not a PaymentPayload: ${where}: ${issue?.message}` };
  }
  return { kind: "header", header: encodePaymentSignatureHeader(parsed.output as unknown as PaymentPayload) };
}
