// The `upto` payload of a PAYMENT-SIGNATURE (docs/ARCHITECTURE.md §6; x402 spec
// schemes/upto/scheme_upto_evm.md): a Permit2 `permitWitnessTransferFrom` authorization for at most
// `permitted.amount`, to the x402 upto proxy, with a witness naming the payee and the facilitator.
// Read with valibot into the same normalized authorization the exact scheme yields (from, to,
// value = the signed maximum, validAfter, validBefore = the permit deadline, nonce), so the rest
// of the paid flow treats both schemes alike. Pure: no I/O, never throws.
import * as v from "valibot";
import type { PaymentPayload } from "@x402/core/types";

const HexAddress = v.pipe(v.string(), v.regex(/^0x[0-9a-fA-F]{40}$/));
const UintString = v.pipe(v.string(), v.regex(/^\d{1,78}$/));

const Permit2AuthorizationSchema = v.object({
  from: HexAddress,
  permitted: v.object({ token: HexAddress, amount: UintString }),
  spender: HexAddress,
  nonce: UintString,
  deadline: UintString,
  witness: v.object({ to: HexAddress, facilitator: HexAddress, validAfter: UintString }),
});
export type Permit2Authorization = v.InferOutput<typeof Permit2AuthorizationSchema>;

const UptoPayloadSchema = v.object({
  signature: v.pipe(v.string(), v.regex(/^0x[0-9a-fA-F]+$/)),
  permit2Authorization: Permit2AuthorizationSchema,
});

/** An upto payment read: its normalized authorization and the Permit2 authorization it came from. */
export interface UptoDecoded {
  scheme: "upto";
  payload: PaymentPayload;
  authorization: { from: string; to: string; value: string; validAfter: string; validBefore: string; nonce: string };
  permit2: Permit2Authorization;
}

/** The decoded upto payment, or why its `payload` is malformed. `accepted` was checked by the caller. */
export function decodeUptoPayload(
  payload: PaymentPayload,
): UptoDecoded | { code: "invalid_payment_header"; message: string } {
  const parsed = v.safeParse(UptoPayloadSchema, payload.payload);
  if (!parsed.success) {
    const path = parsed.issues[0]?.path?.map((p) => String(p.key)).join(".") ?? "";
    return {
      code: "invalid_payment_header",
      message: `PAYMENT-SIGNATURE upto payload is malformed${path ? ` at payload.${path}` : ""}`,
    };
  }
  const permit = parsed.output.permit2Authorization;
  return {
    scheme: "upto",
    payload,
    authorization: {
      from: permit.from,
      to: permit.witness.to,
      value: permit.permitted.amount,
      validAfter: permit.witness.validAfter,
      validBefore: permit.deadline,
      nonce: permit.nonce,
    },
    permit2: permit,
  };
}
