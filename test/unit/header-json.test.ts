// The x402 header encoders we write PAYMENT-REQUIRED and PAYMENT-RESPONSE with
// (src/payments/header-json.ts) must give exactly @x402/core's bytes, for any JSON content
// (any Unicode, lone surrogates included), and decode back with @x402/core's decoders; the
// decoder we read PAYMENT-SIGNATURE with must give @x402/core's value or throw where it throws,
// for any input (bad padding, bad characters, bytes that are not UTF-8).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodePaymentRequiredHeader,
  decodePaymentResponseHeader,
  decodePaymentSignatureHeader,
  encodePaymentRequiredHeader,
  encodePaymentResponseHeader,
} from "@x402/core/http";
import type { PaymentRequired, SettleResponse } from "@x402/core/types";
import { decodeBase64Json, encodePaymentRequired, encodeSettleResponse } from "../../src/payments/header-json.ts";

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

  it("PAYMENT-SIGNATURE: @x402/core's value, or a throw where it throws, for any header", () => {
    const outcome = (decode: (h: string) => unknown, header: string) => {
      try {
        return { value: decode(header) };
      } catch {
        return "throws";
      }
    };
    const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
    const utf8 = (text: string) => new TextEncoder().encode(text);
    // Valid encodings of any JSON, with their padding kept, cut short or cut off.
    const encoded = fc
      .tuple(json, fc.constantFrom(0, 1, 2))
      .map(([value, cut]) => b64(utf8(JSON.stringify(value) ?? "null")).replace(new RegExp(`={0,${cut}}$`), ""));
    // A JSON string of raw bytes (so invalid UTF-8 reaches the decoder's replacement).
    const rawString = fc
      .uint8Array({ maxLength: 24 })
      .map((bytes) => b64(new Uint8Array([0x22, ...bytes.filter((b) => b >= 0x20 && b !== 0x22 && b !== 0x5c), 0x22])));
    const alphabet = fc.string({ unit: fc.constantFrom(..."AQZaz09+/=".split("")), maxLength: 12 });
    const junk = fc.string({ unit: fc.constantFrom(..."eyJhIjoxfQ== \n-_.%".split("")), maxLength: 16 });
    fc.assert(
      fc.property(fc.oneof(encoded, rawString, alphabet, junk), (header) => {
        expect(outcome(decodeBase64Json, header)).toEqual(outcome(decodePaymentSignatureHeader, header));
      }),
      { numRuns: 2000 },
    );
    for (const header of ["", "=", "QQ", "QQ=", "QQ==", "QUJD=", "QUJDRA=", "Q", "e30", "e30=", "e30==", "bnVsbA=="]) {
      expect(outcome(decodeBase64Json, header)).toEqual(outcome(decodePaymentSignatureHeader, header));
    }
  });
});
