// Signed offers and receipts (src/receipts/, x402 offer-receipt in EIP-712): what the dispatcher
// signs verifies against the published keys with the official verifier; any tampered field, a key
// that is not published, or a retired key once it is no longer listed fails; a rotated-out key
// still verifies while it is listed as previous. Config: no key → nothing signed, never a throw.
import { describe, expect, it } from "vitest";
import { decodePaymentResponseHeader, encodePaymentResponseHeader } from "@x402/core/http";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { extractOffersFromPaymentRequired, OFFER_RECEIPT } from "@x402/extensions/offer-receipt";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { ConfigError, parseConfig } from "../../src/config/env.ts";
import { receiptKeysDocument, wellKnownReceiptField } from "../../src/receipts/document.ts";
import { offerExtension, receiptExtension, withReceipt } from "../../src/receipts/issue.ts";
import { deploymentKeys, kidOf, receiptSigner } from "../../src/receipts/signer.ts";
import { storedReceipt } from "../../src/receipts/stored.ts";
import { verifyOffer, verifyReceipt, type KeysDocument } from "../../src/receipts/verify.ts";

const KEY_A = generatePrivateKey();
const KEY_B = generatePrivateKey();
const ADDRESS_A = privateKeyToAccount(KEY_A).address.toLowerCase();
const ADDRESS_B = privateKeyToAccount(KEY_B).address.toLowerCase();

const receiptsOf = (key: string | undefined, previous?: string) =>
  parseConfig({ API_KEY_SECRET: "k", RECEIPT_SIGNING_KEY: key, RECEIPT_PREVIOUS_SIGNERS: previous }).receipts;

const REQUIREMENTS: PaymentRequirements = {
  scheme: "exact",
  network: "eip155:84532",
  asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
  amount: "1000",
  payTo: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
  maxTimeoutSeconds: 60,
  extra: { name: "USDC", version: "2" },
};
const SETTLED = {
  resourceUrl: "https://claw.example/t/cities/v1/records?country=FR",
  payer: "0x857b06519E91e3A54538791bDbb0E22373e36b66",
  network: "eip155:84532",
  transaction: `0x${"ab".repeat(32)}`,
  paymentPayload: { x402Version: 2 } as unknown as PaymentPayload,
  requirements: REQUIREMENTS,
};

async function signedBy(key: `0x${string}`, previous?: string) {
  const ext = await receiptExtension(receiptSigner(receiptsOf(key, previous)), SETTLED);
  if (!ext) throw new Error("no receipt was signed");
  return ext.info.receipt;
}

const docOf = (receipts: ReturnType<typeof receiptsOf>): KeysDocument =>
  JSON.parse(JSON.stringify(receiptKeysDocument(deploymentKeys(receipts))));

describe("receipt signing config", () => {
  it("no key: no signer, no offer, no receipt, nothing published", async () => {
    const receipts = receiptsOf(undefined);
    expect(receipts).toEqual({ signingKey: null, previousSigners: [] });
    expect(receiptSigner(receipts)).toBeNull();
    expect(await offerExtension(null, REQUIREMENTS, SETTLED.resourceUrl)).toBeNull();
    expect(await receiptExtension(null, SETTLED)).toBeNull();
    expect(deploymentKeys(receipts)).toEqual([]);
    expect(wellKnownReceiptField([], "https://claw.example")).toEqual({});
    const settle = { success: true, transaction: "0x1", network: "eip155:1" } as const;
    expect(withReceipt(settle, null)).toBe(encodePaymentResponseHeader(settle));
  });

  it("a key without 0x, upper case, is normalised; a malformed key or address list is a ConfigError", () => {
    expect(receiptsOf(KEY_A.slice(2).toUpperCase()).signingKey).toBe(KEY_A.toLowerCase());
    expect(() => receiptsOf("0x1234")).toThrow(ConfigError);
    expect(() => receiptsOf(KEY_A, "0x1234")).toThrow(/RECEIPT_PREVIOUS_SIGNERS/);
    const previous = `${ADDRESS_B.toUpperCase().replace("0X", "0x")} , ${ADDRESS_B}`;
    expect(receiptsOf(KEY_A, previous).previousSigners).toEqual([ADDRESS_B]);
  });

  it("publishes the current key, then previous ones, as did:pkh ids; previous ones also without a current key", () => {
    const keys = deploymentKeys(receiptsOf(KEY_A, ADDRESS_B));
    expect(keys).toEqual([
      { kid: `did:pkh:eip155:1:${ADDRESS_A}`, address: ADDRESS_A, status: "current" },
      { kid: kidOf(ADDRESS_B), address: ADDRESS_B, status: "previous" },
    ]);
    expect(deploymentKeys(receiptsOf(undefined, ADDRESS_B))).toEqual([keys[1]]);
    expect(wellKnownReceiptField(keys, "https://claw.example")).toEqual({
      offerReceipt: { format: "eip712", keysUrl: "https://claw.example/.well-known/402claw-receipt-keys.json", keys },
    });
  });
});

describe("receipts", () => {
  it("sign → verify: binds resource, payer, network, transaction, time; the current key signed", async () => {
    const before = Math.floor(Date.now() / 1000);
    const receipt = await signedBy(KEY_A);
    expect(receipt.format).toBe("eip712");
    expect(receipt.payload).toMatchObject({
      version: 1,
      resourceUrl: SETTLED.resourceUrl,
      payer: SETTLED.payer,
      network: SETTLED.network,
      transaction: SETTLED.transaction,
    });
    expect(receipt.payload.issuedAt).toBeGreaterThanOrEqual(before);
    const { resourceUrl, payer, network, transaction } = SETTLED;
    const verified = await verifyReceipt(receipt, docOf(receiptsOf(KEY_A)), {
      resourceUrl,
      payer,
      network,
      transaction,
    });
    expect(verified).toMatchObject({ ok: true, signer: ADDRESS_A, kid: kidOf(ADDRESS_A), status: "current" });
  });

  it("every tampered payload field, and a tampered signature, fails", async () => {
    const receipt = await signedBy(KEY_A);
    const doc = docOf(receiptsOf(KEY_A));
    const changes: Record<string, unknown> = {
      resourceUrl: `${SETTLED.resourceUrl}&x=1`,
      payer: ADDRESS_B,
      network: "eip155:8453",
      transaction: `0x${"cd".repeat(32)}`,
      issuedAt: receipt.payload.issuedAt + 1,
    };
    for (const [field, value] of Object.entries(changes)) {
      const tampered = { ...receipt, payload: { ...receipt.payload, [field]: value } };
      const result = await verifyReceipt(tampered, doc);
      expect(result.ok, field).toBe(false);
    }
    const sig = receipt.signature;
    const flipped = `${sig.slice(0, 20)}${sig[20] === "0" ? "1" : "0"}${sig.slice(21)}`;
    expect((await verifyReceipt({ ...receipt, signature: flipped }, doc)).ok).toBe(false);
  });

  it("a receipt whose signer is not a published key fails, naming the signer", async () => {
    const receipt = await signedBy(KEY_B);
    const result = await verifyReceipt(receipt, docOf(receiptsOf(KEY_A)));
    expect(result).toEqual({ ok: false, reason: `signed by ${ADDRESS_B}, which is not a published receipt key` });
  });

  it("expectations that differ from the payload fail (another payer, another transaction)", async () => {
    const receipt = await signedBy(KEY_A);
    const doc = docOf(receiptsOf(KEY_A));
    expect((await verifyReceipt(receipt, doc, { payer: ADDRESS_B })).ok).toBe(false);
    expect((await verifyReceipt(receipt, doc, { transaction: `0x${"00".repeat(32)}` })).ok).toBe(false);
    expect((await verifyReceipt(receipt, doc, { notAfter: receipt.payload.issuedAt - 1 })).ok).toBe(false);
    // Addresses compare case-insensitively.
    expect((await verifyReceipt(receipt, doc, { payer: SETTLED.payer.toLowerCase() })).ok).toBe(true);
  });

  it("rotation: a receipt of the previous key verifies while it is listed, and fails once it is not", async () => {
    const old = await signedBy(KEY_A);
    const rotated = receiptsOf(KEY_B, ADDRESS_A);
    const fresh = await signedBy(KEY_B, ADDRESS_A);
    expect(await verifyReceipt(old, docOf(rotated))).toMatchObject({ ok: true, signer: ADDRESS_A, status: "previous" });
    expect(await verifyReceipt(fresh, docOf(rotated))).toMatchObject({
      ok: true,
      signer: ADDRESS_B,
      status: "current",
    });
    expect((await verifyReceipt(old, docOf(receiptsOf(KEY_B)))).ok).toBe(false);
  });

  it("withReceipt adds the receipt under extensions['offer-receipt'] and keeps every settle field", async () => {
    const ext = await receiptExtension(receiptSigner(receiptsOf(KEY_A)), SETTLED);
    const settled = {
      success: true,
      transaction: SETTLED.transaction,
      network: "eip155:84532",
      payer: SETTLED.payer,
    } as const;
    const settle = decodePaymentResponseHeader(withReceipt(settled, ext));
    expect(settle).toMatchObject({ success: true, transaction: SETTLED.transaction, payer: SETTLED.payer });
    const carried = (settle.extensions?.[OFFER_RECEIPT] as { info: { receipt: unknown } } | undefined)?.info;
    expect(carried?.receipt).toEqual(ext!.info.receipt);
    expect(storedReceipt(JSON.stringify(ext!.info.receipt))).toEqual(ext!.info.receipt);
    expect(storedReceipt("not json")).toBeNull();
    expect(storedReceipt(JSON.stringify({ format: "jws" }))).toBeNull();
  });
});

describe("offers", () => {
  it("a 402's offer signs its terms: verifies with the published key, fails when its amount changes", async () => {
    const ext = await offerExtension(receiptSigner(receiptsOf(KEY_A)), REQUIREMENTS, SETTLED.resourceUrl);
    const required = {
      x402Version: 2,
      resource: { url: SETTLED.resourceUrl },
      accepts: [REQUIREMENTS],
      extensions: ext!,
    };
    const [offer] = extractOffersFromPaymentRequired(required as never) as unknown as [Record<string, any>];
    expect(offer).toMatchObject({ format: "eip712", acceptIndex: 0 });
    expect(offer.payload).toMatchObject({ scheme: "exact", amount: "1000", payTo: REQUIREMENTS.payTo });
    expect(offer.payload.validUntil - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(60);
    const doc = docOf(receiptsOf(KEY_A));
    const terms = { amount: "1000", payTo: REQUIREMENTS.payTo, resourceUrl: SETTLED.resourceUrl };
    expect(await verifyOffer(offer, doc, terms)).toMatchObject({ ok: true, signer: ADDRESS_A });
    expect((await verifyOffer(offer, doc, { amount: "999" })).ok).toBe(false);
    const tampered = { ...offer, payload: { ...offer.payload, amount: "1" } };
    expect((await verifyOffer(tampered, doc)).ok).toBe(false);
    expect((await verifyOffer(offer, docOf(receiptsOf(KEY_B)))).ok).toBe(false);
  });

  it("the same URL and terms reuse a fresh offer; other terms or another URL get their own", async () => {
    const signer = receiptSigner(receiptsOf(KEY_A));
    const first = await offerExtension(signer, REQUIREMENTS, SETTLED.resourceUrl);
    expect(await offerExtension(signer, REQUIREMENTS, SETTLED.resourceUrl)).toBe(first);
    const dearer = await offerExtension(signer, { ...REQUIREMENTS, amount: "2000" }, SETTLED.resourceUrl);
    expect(dearer).not.toBe(first);
    expect(JSON.stringify(dearer)).toContain('"amount":"2000"');
    expect(await offerExtension(signer, REQUIREMENTS, `${SETTLED.resourceUrl}&y=2`)).not.toBe(first);
  });
});
