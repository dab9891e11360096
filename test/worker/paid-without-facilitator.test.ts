// A paid tenant on a deployment without FACILITATOR_URL: challenges still work (they never touch
// the facilitator), but any payment fails closed with 503 payments_unavailable and serves nothing.
import { describe, expect, it } from "vitest";
import { call, CITIES_CSV, createCreator, deployOk, expectError, uniqueSlug } from "./helpers.ts";

const ASSET = { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", name: "USDC", version: "2", decimals: 6 };
const PAY_TO = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";

describe("paid tenant without a facilitator", () => {
  it("challenges with the tenant's requirements and fails closed on payment", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("paid");
    await deployOk(creator.key, slug, CITIES_CSV, {
      config: { priceUsd: 0.0025, payTo: PAY_TO, network: "eip155:84532", asset: ASSET },
    });
    const challenge = await call(`/t/${slug}/v1/records?x=1`);
    expect(challenge.status).toBe(402);
    const required = JSON.parse(atob(challenge.headers.get("payment-required")!));
    expect(required.accepts).toEqual([
      {
        scheme: "exact",
        network: "eip155:84532",
        asset: ASSET.address,
        amount: "2500",
        payTo: PAY_TO,
        maxTimeoutSeconds: 60,
        extra: { name: "USDC", version: "2" },
      },
    ]);
    expect(required.resource.url).toBe(`http://localhost/t/${slug}/v1/records?x=1`);
    const body = await challenge.json<any>();
    expect(body).toMatchObject({ x402Version: 2, code: "payment_required", accepts: required.accepts });
    expect(body.requestId).toBe(challenge.headers.get("x-request-id"));

    await expectError(
      await call(`/t/${slug}/v1/records`, { headers: { "payment-signature": btoa("{}") } }),
      503,
      "payments_unavailable",
    );
  });
});
