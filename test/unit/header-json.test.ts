// The x402 header encoders we write PAYMENT-REQUIRED and PAYMENT-RESPONSE with
// (src/payments/header-json.ts) must give exactly @x402/core's bytes, for any JSON content
// (any Unicode, lone surrogates included), and decode back with @x402/core's decoders.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodePaymentRequiredHeader,
  decodePaymentResponseHeader,
  encodePaymentRequiredHeader,
  encodePaymentResponseHeader,
} from "@x402/core/http";
import type { PaymentRequired, SettleResponse } from "@x402/core/types";
import { encodePaymentRequired, encodeSettleResponse } from "../../src/payments/header-json.ts";

const anyText = fc.string({ unit: "binary", maxLength: 40 });
const json = fc.jsonValue({ maxDepth: 3 });

const settleResponse = fc.record(
  {
    success: fc.boolean(),
    transaction: anyText,
    network: anyText,
    payer: anyText,
    errorReason: anyText,
    amount: anyText,
    extensions: fc.dictionary(anyText, json),
    extensionResponses: fc.dictionary(anyText, json),
  },
  { requiredKeys: ["success", "transaction", "network"] },
) as fc.Arbitrary<SettleResponse>;

const paymentRequired = fc.record({
  x402Version: fc.constant(2),
  error: anyText,
  resource: fc.record({ url: anyText, description: anyText }),
  accepts: fc.array(fc.dictionary(anyText, json), { maxLength: 3 }),
  extensions: fc.dictionary(anyText, json),
}) as unknown as fc.Arbitrary<PaymentRequired>;

describe("x402 header encoders", () => {
  it("PAYMENT-REQUIRED: @x402/core's bytes, and its decoder reads it back", () => {
    fc.assert(
      fc.property(paymentRequired, (required) => {
        const header = encodePaymentRequired(required);
        expect(header).toBe(encodePaymentRequiredHeader(required));
        expect(decodePaymentRequiredHeader(header)).toEqual(JSON.parse(JSON.stringify(required)));
      }),
      { numRuns: 300 },
    );
  });

  it("PAYMENT-RESPONSE: @x402/core's bytes, without extensionResponses", () => {
    fc.assert(
      fc.property(settleResponse, (response) => {
        const header = encodeSettleResponse(response);
        expect(header).toBe(encodePaymentResponseHeader(response));
        expect(decodePaymentResponseHeader(header)).not.toHaveProperty("extensionResponses");
      }),
      { numRuns: 300 },
    );
  });

  it("leaves the caller's object alone", () => {
    const response = { success: true, transaction: "0x1", network: "eip155:1", extensionResponses: { a: 1 } };
    encodeSettleResponse(response as SettleResponse);
    expect(response.extensionResponses).toEqual({ a: 1 });
  });
});
