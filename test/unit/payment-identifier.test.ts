// The x402 payment-identifier reader (src/payments/payment-identifier.ts), a parser of outside
// input: whatever a client puts in its payment payload's `extensions`, it never throws and
// answers an id that @x402/extensions' own rules accept, no id, or a problem (a 402
// invalid_payment_header). The 402 declaration is the library's own and validates with it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PaymentPayload } from "@x402/core/types";
import {
  appendPaymentIdentifierToExtensions,
  generatePaymentId,
  isValidPaymentId,
  PAYMENT_IDENTIFIER,
  validatePaymentIdentifier,
} from "@x402/extensions/payment-identifier";
import { paymentIdentifierDeclaration, readPaymentIdentifier } from "../../src/payments/payment-identifier.ts";

const payloadWith = (extensions: unknown) => ({ x402Version: 2, extensions }) as unknown as PaymentPayload;

describe("payment-identifier", () => {
  it("reads the id the extension's client helper sets on our declaration", () => {
    const extensions = structuredClone(paymentIdentifierDeclaration());
    const id = generatePaymentId();
    appendPaymentIdentifierToExtensions(extensions, id);
    expect(readPaymentIdentifier(payloadWith(extensions))).toEqual({ id });
    // The declaration alone (a client that echoes it without an id) carries no id.
    expect(readPaymentIdentifier(payloadWith(paymentIdentifierDeclaration()))).toEqual({ id: null });
    expect(readPaymentIdentifier(payloadWith(undefined))).toEqual({ id: null });
    expect(readPaymentIdentifier(payloadWith({ bazaar: {} }))).toEqual({ id: null });
  });

  it("the declaration is valid by the library's own structural rules and not required", () => {
    const declared = paymentIdentifierDeclaration()[PAYMENT_IDENTIFIER] as { info: unknown; schema: unknown };
    expect(declared.info).toEqual({ required: false });
    // Without its schema: the library compiles schemas with ajv, which code generation forbids in workerd.
    expect(validatePaymentIdentifier({ info: declared.info })).toEqual({ valid: true });
  });

  it("property: any extensions value → an id valid by the library's rules, no id, or a problem", () => {
    const id = fc.oneof(fc.string({ maxLength: 140 }), fc.stringMatching(/^[A-Za-z0-9_-]{10,140}$/), fc.jsonValue());
    const extension = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      id.map((value) => ({ info: { required: false, id: value } })),
      id.map((value) => ({ info: { id: value }, schema: "x" })),
    );
    const extensions = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      extension.map((e) => ({ [PAYMENT_IDENTIFIER]: e })),
    );
    fc.assert(
      fc.property(extensions, (value) => {
        const result = readPaymentIdentifier(payloadWith(value));
        if ("problem" in result) expect(result.problem).toMatch(/payment-identifier/);
        else if (result.id !== null) expect(isValidPaymentId(result.id)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
