// Usage-priced (upto) operations in workerd (src/config/prices.ts, docs/ARCHITECTURE.md §4-§6): the
// config takes `{"upto": USD}` and refuses bad ceilings with invalid_price, the requirements and
// the per-API OpenAPI say "upto, at most the ceiling", a deployment without a facilitator cannot
// offer upto (503, nothing else breaks), and the meter reserves the maximum and settles the actual
// charge, writing both to the D1 ledger (0 too: the row locks the payment against a free replay).
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TenantConfig } from "../../src/config/tenant-config.ts";
import { requirementsFor } from "../../src/payments/requirements.ts";
import { call, CITIES_CSV, createCreator, deployDataset, deployOk, expectError, uniqueSlug } from "./helpers.ts";
import { admitPaid, claim, configured, refused, response, T0 } from "./meter-payment-helpers.ts";
import type { Meter } from "./meter-payment-helpers.ts";
import type { PaymentClaim } from "../../objects/meter/types.ts";

const ASSET = { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", name: "USDC", version: "2", decimals: 6 };
const PAY_TO = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const PAID = { priceUsd: 0.001, payTo: PAY_TO, network: "eip155:84532", asset: ASSET };
const PRICES = { "GET /v1/records/{id}": { upto: 0.05 } };

function commitCharged(stub: Meter, p: PaymentClaim, atomic: string, error: string | null = null) {
  const settlement = { transaction: atomic === "0" ? "" : `0x${p.id.slice(-8)}`, network: p.network, payer: p.payer };
  return stub.commit(p.id, { ...settlement, charge: { atomic, error } }, response(), {
    requestId: `req-${p.id.slice(-6)}`,
    settledAt: T0,
  });
}

describe("usage-priced (upto) operations", () => {
  it("are configured as {upto: USD}, offered as upto for the ceiling, and described as such", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("upto");
    const deployed = await deployOk(creator.key, slug, CITIES_CSV, { config: { ...PAID, prices: PRICES } });
    const tenant = deployed.tenant as TenantConfig;
    expect(tenant.prices).toEqual(PRICES);
    expect(requirementsFor(tenant, "GET", "/v1/records/3")).toMatchObject({
      scheme: "upto",
      amount: "50000",
      extra: { name: "USDC", version: "2", assetTransferMethod: "permit2" },
    });
    expect(requirementsFor(tenant, "GET", "/v1/records")).toMatchObject({ scheme: "exact", amount: "1000" });

    const doc = await (await call(`/t/${slug}/openapi.json`)).json<any>();
    const op = doc.paths["/v1/records/{id}"].get;
    const dynamic = { mode: "dynamic", currency: "USD", min: "0", max: "0.05", scheme: "upto" };
    expect(op["x-payment-info"].price).toEqual(dynamic);
    const fixed = { mode: "fixed", currency: "USD", amount: "0.001" };
    expect(doc.paths["/v1/records"].get["x-payment-info"].price).toEqual(fixed);

    // No facilitator here: an upto offer needs its address, so the operation answers 503; exact
    // ones still challenge.
    await expectError(await call(`/t/${slug}/v1/records/3`), 503, "payments_unavailable");
    expect((await call(`/t/${slug}/v1/records`)).status).toBe(402);
  });

  it("refuses a zero, negative or malformed ceiling with invalid_price", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("upto");
    for (const entry of [{ upto: 0 }, { upto: -1 }, { upto: "0.05" }, { upto: 0.05, extra: 1 }, { max: 0.05 }]) {
      const config = { ...PAID, prices: { "GET /v1/records/{id}": entry } };
      const res = await deployDataset(creator.key, slug, CITIES_CSV, { config });
      const body = await expectError(res, 400, "invalid_price");
      expect(body.error.message, JSON.stringify(entry)).toMatch(/^prices/);
    }
  });

  it("reserves the maximum at admit, settles the actual, and the ledger keeps both", async () => {
    const { stub, slug } = await configured({ spendCapsAtomic: { daily: "100000" } });
    const payments = [1, 2, 3].map(() => claim({ amountAtomic: "50000" }));
    const [a, b, c] = payments as [PaymentClaim, PaymentClaim, PaymentClaim];
    expect((await admitPaid(stub, a)).ok).toBe(true);
    expect((await admitPaid(stub, b)).ok).toBe(true);
    // Two maxima reserved fill the cap, whatever they will cost.
    expect(refused(await admitPaid(stub, c)).code).toBe("spend_cap_exceeded");
    expect(await commitCharged(stub, a, "18500")).toBe("committed");
    expect(await commitCharged(stub, b, "0", "upto_charge_missing")).toBe("committed");
    expect((await stub.spend(T0)).daily).toEqual({ settled: "18500", reserved: "0" });
    const zero = { status: "settled", chargedAtomic: "0", chargeError: "upto_charge_missing" };
    expect(await stub.paymentStatus(b.id)).toMatchObject(zero);
    // The 0-charge payment is settled in the meter: presented again, it is a replay, not a second run.
    expect(refused(await admitPaid(stub, b)).code).toBe("payment_replayed");
    // A report above the maximum never settles more than was reserved.
    expect((await admitPaid(stub, c)).ok).toBe(true);
    expect(await commitCharged(stub, c, "999999", "upto_charge_capped")).toBe("committed");
    expect((await stub.spend(T0)).daily).toEqual({ settled: "68500", reserved: "0" });

    expect((await stub.flushOutbox()).remaining).toBe(0);
    const { results } = await env.DB.prepare(
      "SELECT payment_id, amount_atomic, max_amount_atomic, charge_error FROM ledger WHERE tenant = ?",
    )
      .bind(slug)
      .all<{ payment_id: string; amount_atomic: string; max_amount_atomic: string; charge_error: string | null }>();
    const byId = new Map(results.map((r) => [r.payment_id, r]));
    expect(byId.get(a.id)).toMatchObject({ amount_atomic: "18500", max_amount_atomic: "50000", charge_error: null });
    expect(byId.get(b.id)).toMatchObject({ amount_atomic: "0", charge_error: "upto_charge_missing" });
    expect(byId.get(c.id)).toMatchObject({ amount_atomic: "50000", charge_error: "upto_charge_capped" });
  });
});
