// The receipt parsers (src/receipts/verify.ts) read outside input: a PAYMENT-RESPONSE's receipt and
// a keys document from any server. Properties: whatever the input, they never throw, and
// verification answers ok only for a receipt our key signed, byte for byte; any change to a signed
// receipt's payload is refused.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { generatePrivateKey } from "viem/accounts";
import { parseConfig } from "../../src/config/env.ts";
import { receiptKeysDocument } from "../../src/receipts/document.ts";
import { receiptExtension } from "../../src/receipts/issue.ts";
import { deploymentKeys, receiptSigner } from "../../src/receipts/signer.ts";
import { parseKeysDocument, parseReceipt, verifyReceipt, type KeysDocument } from "../../src/receipts/verify.ts";

const receipts = parseConfig({ API_KEY_SECRET: "k", RECEIPT_SIGNING_KEY: generatePrivateKey() }).receipts;
const DOC = JSON.parse(JSON.stringify(receiptKeysDocument(deploymentKeys(receipts)))) as KeysDocument;

const receiptShaped = fc.record(
  {
    format: fc.oneof(fc.constant("eip712"), fc.string({ maxLength: 8 })),
    payload: fc.record(
      {
        version: fc.oneof(fc.constant(1), fc.integer(), fc.string({ maxLength: 3 })),
        network: fc.oneof(fc.constant("eip155:84532"), fc.string({ maxLength: 20 })),
        resourceUrl: fc.oneof(fc.webUrl(), fc.string({ maxLength: 40 })),
        payer: fc.oneof(fc.stringMatching(/^0x[0-9a-f]{40}$/), fc.string({ maxLength: 42 })),
        issuedAt: fc.oneof(fc.nat(), fc.double(), fc.string({ maxLength: 10 })),
        transaction: fc.oneof(fc.stringMatching(/^0x[0-9a-f]{64}$/), fc.constant("")),
      },
      { requiredKeys: [] },
    ),
    signature: fc.oneof(fc.stringMatching(/^0x[0-9a-f]{130}$/), fc.stringMatching(/^0x[0-9a-f]{0,140}$/), fc.string()),
  },
  { requiredKeys: [] },
);

describe("receipt parsers (property)", () => {
  it("parseReceipt and parseKeysDocument never throw on any JSON or receipt-shaped value", () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), receiptShaped, fc.anything()), (input) => {
        const receipt = parseReceipt(input);
        expect("receipt" in receipt || typeof receipt.problem === "string").toBe(true);
        const doc = parseKeysDocument(input);
        expect("doc" in doc || typeof doc.problem === "string").toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("verifyReceipt never throws and never accepts a receipt our key did not sign", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), receiptShaped), async (input) => {
        const result = await verifyReceipt(input, DOC);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });

  it("a signed receipt with any one payload field changed is refused", async () => {
    const ext = await receiptExtension(receiptSigner(receipts), {
      resourceUrl: "https://claw.example/t/x/v1/a",
      payer: "0x857b06519e91e3a54538791bdbb0e22373e36b66",
      network: "eip155:84532",
      transaction: `0x${"12".repeat(32)}`,
      paymentPayload: { x402Version: 2 } as unknown as PaymentPayload,
      requirements: { scheme: "exact" } as unknown as PaymentRequirements,
    });
    const receipt = ext!.info.receipt;
    expect((await verifyReceipt(receipt, DOC)).ok).toBe(true);
    const change = fc.oneof(
      fc.record({ field: fc.constantFrom("network", "resourceUrl", "payer", "transaction"), value: fc.string() }),
      fc.record({ field: fc.constant("issuedAt"), value: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(change, async ({ field, value }) => {
        fc.pre((receipt.payload as unknown as Record<string, unknown>)[field] !== value);
        const tampered = { ...receipt, payload: { ...receipt.payload, [field]: value } };
        expect((await verifyReceipt(tampered, DOC)).ok).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});
