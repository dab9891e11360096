// Signed offers and published receipt keys through the real dispatcher (workerd): a paid API's 402
// carries an offer-receipt offer of exactly its terms, signed by the key that
// /.well-known/402claw-receipt-keys.json (platform and API) and /.well-known/x402 publish; a
// deployment without RECEIPT_SIGNING_KEY advertises no offer and publishes no key, and still works.
// (Receipts of real settlements: test/node/paid-receipts.test.ts, on the local chain.)
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import { extractOffersFromPaymentRequired, OFFER_RECEIPT } from "@x402/extensions/offer-receipt";
import { privateKeyToAccount } from "viem/accounts";
import worker from "../../src/index.ts";
import { parseKeysDocument, verifyOffer } from "../../src/receipts/verify.ts";
import { checkSchema } from "../support/schema-check.ts";
import { call, CITIES_CSV, createCreator, deployOk, PLATFORM, uniqueSlug } from "./helpers.ts";

const ASSET = { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", name: "USDC", version: "2", decimals: 6 };
const PAY_TO = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const SIGNER = privateKeyToAccount((env as unknown as { RECEIPT_SIGNING_KEY: `0x${string}` }).RECEIPT_SIGNING_KEY);

async function paidApi(): Promise<string> {
  const creator = await createCreator();
  const slug = uniqueSlug("receipts");
  await deployOk(creator.key, slug, CITIES_CSV, {
    config: { priceUsd: 0.0025, payTo: PAY_TO, network: "eip155:84532", asset: ASSET },
  });
  return slug;
}

/** The dispatcher with the test env minus the receipt signing key. */
async function withoutKey(path: string): Promise<Response> {
  const ctx = createExecutionContext();
  const bare = { ...env, RECEIPT_SIGNING_KEY: "" } as unknown as Env;
  const res = await worker.fetch(new Request(`${PLATFORM}${path}`), bare, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe("offers and receipt keys", () => {
  it("publishes the signing key on the platform, on the API, and in both /.well-known/x402", async () => {
    const slug = await paidApi();
    const address = SIGNER.address.toLowerCase();
    const key = { kid: `did:pkh:eip155:1:${address}`, address, status: "current" };
    for (const path of ["/.well-known/402claw-receipt-keys.json", `/t/${slug}/.well-known/402claw-receipt-keys.json`]) {
      const res = await call(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      const doc = await res.json<any>();
      expect(doc).toMatchObject({ version: 1, extension: OFFER_RECEIPT, format: "eip712", keys: [key] });
      expect(doc.domains.receipt).toEqual({ name: "x402 receipt", version: "1", chainId: 1 });
      expect("doc" in parseKeysDocument(doc)).toBe(true);
    }
    const platform = await (await call("/.well-known/x402")).json<any>();
    // Both documents are what the platform's OpenAPI says they are.
    const doc = await (await call("/openapi.json")).json<any>();
    const schemaOf = (path: string) => doc.paths[path].get.responses["200"].content["application/json"].schema;
    expect(checkSchema(schemaOf("/.well-known/x402"), platform, doc)).toEqual([]);
    const keysDoc = await (await call("/.well-known/402claw-receipt-keys.json")).json<any>();
    expect(checkSchema(schemaOf("/.well-known/402claw-receipt-keys.json"), keysDoc, doc)).toEqual([]);
    expect(platform.offerReceipt).toEqual({
      format: "eip712",
      keysUrl: `${PLATFORM}/.well-known/402claw-receipt-keys.json`,
      keys: [key],
    });
    const api = await (await call(`/t/${slug}/.well-known/x402`)).json<any>();
    expect(api.resources.length).toBeGreaterThan(0);
    expect(api.offerReceipt.keys).toEqual([key]);
    expect(api.offerReceipt.keysUrl).toBe(`${PLATFORM}/t/${slug}/.well-known/402claw-receipt-keys.json`);
  });

  it("a 402 carries a signed offer of exactly its terms that verifies with the published key", async () => {
    const slug = await paidApi();
    const res = await call(`/t/${slug}/v1/records?country=FR`);
    expect(res.status).toBe(402);
    const required = decodePaymentRequiredHeader(res.headers.get("payment-required")!);
    // The body is the same object, extensions included.
    expect((await res.json<any>()).extensions[OFFER_RECEIPT]).toEqual(required.extensions?.[OFFER_RECEIPT]);
    const offers = extractOffersFromPaymentRequired(required);
    expect(offers).toHaveLength(1);
    const keys = await (await call("/.well-known/402claw-receipt-keys.json")).json<any>();
    const [accepted] = required.accepts;
    const terms = {
      resourceUrl: required.resource.url,
      scheme: accepted!.scheme,
      network: accepted!.network,
      asset: accepted!.asset,
      payTo: accepted!.payTo,
      amount: accepted!.amount,
    };
    const verified = await verifyOffer(offers[0], keys, terms);
    expect(verified).toMatchObject({ ok: true, signer: SIGNER.address.toLowerCase(), status: "current" });
    if (verified.ok) {
      const now = Math.floor(Date.now() / 1000);
      expect(verified.payload.validUntil).toBeGreaterThan(now);
      expect(verified.payload.validUntil).toBeLessThanOrEqual(now + accepted!.maxTimeoutSeconds + 1);
    }
    // The Bazaar listing and payment-identifier are still there, next to the offer.
    expect(Object.keys(required.extensions ?? {})).toEqual(
      expect.arrayContaining([OFFER_RECEIPT, "payment-identifier"]),
    );
  });

  it("without RECEIPT_SIGNING_KEY: no offer in the 402, no key published, everything else as before", async () => {
    const slug = await paidApi();
    const res = await withoutKey(`/t/${slug}/v1/records?country=FR`);
    expect(res.status).toBe(402);
    const required = decodePaymentRequiredHeader(res.headers.get("payment-required")!);
    expect(required.accepts[0]!.amount).toBe("2500");
    expect(required.extensions?.[OFFER_RECEIPT]).toBeUndefined();
    expect(required.extensions?.["payment-identifier"]).toBeDefined();
    const keys = await withoutKey("/.well-known/402claw-receipt-keys.json");
    expect(keys.status).toBe(200);
    expect((await keys.json<any>()).keys).toEqual([]);
    const wellKnown = await (await withoutKey(`/t/${slug}/.well-known/x402`)).json<any>();
    expect(wellKnown.offerReceipt).toBeUndefined();
    expect(wellKnown.resources.length).toBeGreaterThan(0);
  });
});
