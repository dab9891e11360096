// The x402 `payment-identifier` extension (client idempotency, docs/ARCHITECTURE.md §6): every
// paid 402 declares it (optional, built by @x402/extensions), and a client may put an id in its
// payment payload's `extensions["payment-identifier"].info.id`. The gateway honours it next to
// the Idempotency-Key header: the meter binds it, scoped to the payer, to the payment it came
// with, so the same id with another payment is 409 `idempotency_key_conflict` (and the same
// payment keeps its own binding to its request). Read with valibot, never trusted as an identity.
import * as v from "valibot";
import type { PaymentPayload } from "@x402/core/types";
import {
  declarePaymentIdentifierExtension,
  PAYMENT_ID_MAX_LENGTH,
  PAYMENT_ID_MIN_LENGTH,
  PAYMENT_ID_PATTERN,
  PAYMENT_IDENTIFIER,
} from "@x402/extensions/payment-identifier";

/** `extensions` entries for a 402: the declaration (not required; clients may send an id). */
export function paymentIdentifierDeclaration(): Record<string, unknown> {
  return { [PAYMENT_IDENTIFIER]: declarePaymentIdentifierExtension(false) };
}

const ID_RULE = `16-${PAYMENT_ID_MAX_LENGTH} characters of A-Z, a-z, 0-9, "-" and "_"`;

const ClientExtensionSchema = v.object({
  info: v.object({
    id: v.optional(
      v.pipe(
        v.string(),
        v.minLength(PAYMENT_ID_MIN_LENGTH),
        v.maxLength(PAYMENT_ID_MAX_LENGTH),
        v.regex(PAYMENT_ID_PATTERN),
      ),
    ),
  }),
});

export type PaymentIdentifier = { id: string | null } | { problem: string };

/** The client's payment identifier, none, or why the one it sent is malformed. Pure, never throws. */
export function readPaymentIdentifier(payload: PaymentPayload): PaymentIdentifier {
  const extensions = (payload as { extensions?: unknown }).extensions;
  if (extensions === undefined || extensions === null || typeof extensions !== "object") return { id: null };
  const extension = (extensions as Record<string, unknown>)[PAYMENT_IDENTIFIER];
  if (extension === undefined) return { id: null };
  const parsed = v.safeParse(ClientExtensionSchema, extension);
  if (!parsed.success) return { problem: `extensions.${PAYMENT_IDENTIFIER}.info.id must be ${ID_RULE}` };
  return { id: parsed.output.info.id ?? null };
}
