// typedDataDigest (src/receipts/typed-data.ts) is the standard EIP-712 digest: for any offer or
// receipt the official @x402/extensions types describe, and for shapes it does not handle itself
// (other field types, extra types, odd domains), it equals viem's hashTypedData, and a signature
// over it equals account.signTypedData's; values viem refuses are refused too.
import fc from "fast-check";
import { hashTypedData } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createOfferDomain, createReceiptDomain, OFFER_TYPES, RECEIPT_TYPES } from "@x402/extensions/offer-receipt";
import { describe, expect, it } from "vitest";
import { typedDataDigest, type TypedDataParams } from "../../src/receipts/typed-data.ts";

const account = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const uint256 = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n });
const text = fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.webUrl());

const receipt = fc.record({
  version: uint256,
  network: text,
  resourceUrl: text,
  payer: text,
  issuedAt: uint256,
  transaction: text,
});
const offer = fc.record({
  version: uint256,
  resourceUrl: text,
  scheme: text,
  network: text,
  asset: text,
  payTo: text,
  amount: text,
  validUntil: uint256,
});

const receiptParams = (message: Record<string, unknown>): TypedDataParams => ({
  domain: createReceiptDomain(),
  types: RECEIPT_TYPES,
  primaryType: "Receipt",
  message,
});
const offerParams = (message: Record<string, unknown>): TypedDataParams => ({
  domain: createOfferDomain(),
  types: OFFER_TYPES,
  primaryType: "Offer",
  message,
});
const SAMPLE = { version: 1n, network: "eip155:84532", resourceUrl: "https://a.example/", payer: "0x01", issuedAt: 7n };
const viemDigest = (p: TypedDataParams) => hashTypedData(p as Parameters<typeof hashTypedData>[0]);

describe("typedDataDigest", () => {
  it("equals hashTypedData for any receipt and any offer", () => {
    fc.assert(
      fc.property(receipt, (m) => {
        expect(typedDataDigest(receiptParams(m))).toBe(viemDigest(receiptParams(m)));
      }),
    );
    fc.assert(
      fc.property(offer, (m) => {
        expect(typedDataDigest(offerParams(m))).toBe(viemDigest(offerParams(m)));
      }),
    );
  });

  it("equals hashTypedData when strings repeat, are long, or were pushed out of the kept hashes", () => {
    const pool = [
      "eip155:84532",
      "https://a.example/x?q=1",
      "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
      "",
      "é".repeat(600),
    ];
    const repeated = fc.record({
      version: uint256,
      network: fc.constantFrom(...pool),
      resourceUrl: fc.oneof(fc.constantFrom(...pool), text),
      payer: fc.constantFrom(...pool),
      issuedAt: uint256,
      transaction: text,
    });
    fc.assert(
      fc.property(fc.array(repeated, { minLength: 1, maxLength: 20 }), (ms) => {
        for (const m of ms) expect(typedDataDigest(receiptParams(m))).toBe(viemDigest(receiptParams(m)));
      }),
    );
    // More distinct strings than are kept, then the first ones again.
    const many = Array.from({ length: 1500 }, (_, i) => ({ ...SAMPLE, transaction: `0x${i.toString(16)}` }));
    for (const m of many) typedDataDigest(receiptParams(m));
    for (const m of many.slice(0, 50)) expect(typedDataDigest(receiptParams(m))).toBe(viemDigest(receiptParams(m)));
  });

  it("equals hashTypedData for other domains and shapes (the fallback)", () => {
    const domain = fc.record(
      { name: text, version: text, chainId: fc.integer({ min: 1, max: 2 ** 31 }) },
      { requiredKeys: [] },
    );
    const withAddress = fc.record({ who: fc.constantFrom("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"), n: uint256 });
    fc.assert(
      fc.property(domain, receipt, withAddress, (d, m, w) => {
        const own = { ...receiptParams(m), domain: d };
        expect(typedDataDigest(own)).toBe(viemDigest(own));
        const other: TypedDataParams = {
          domain: d,
          types: {
            Thing: [
              { name: "who", type: "address" },
              { name: "n", type: "uint256" },
            ],
          },
          primaryType: "Thing",
          message: w,
        };
        expect(typedDataDigest(other)).toBe(viemDigest(other));
      }),
    );
  });

  it("refuses what hashTypedData refuses", () => {
    const bad = [
      { version: -1n, network: "n", resourceUrl: "u", payer: "p", issuedAt: 1n, transaction: "t" },
      { version: 1n << 256n, network: "n", resourceUrl: "u", payer: "p", issuedAt: 1n, transaction: "t" },
    ];
    for (const m of bad) {
      expect(() => viemDigest(receiptParams(m))).toThrow();
      expect(() => typedDataDigest(receiptParams(m))).toThrow();
    }
  });

  it("signs to the same signature as account.signTypedData", async () => {
    await fc.assert(
      fc.asyncProperty(receipt, async (m) => {
        const p = receiptParams(m);
        const ours = await account.sign({ hash: typedDataDigest(p) });
        expect(ours).toBe(await account.signTypedData(p as Parameters<typeof account.signTypedData>[0]));
      }),
      { numRuns: 25 },
    );
  });
});
