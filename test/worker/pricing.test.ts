// Price per operation through the real dispatcher (src/config/prices.ts, docs/ARCHITECTURE.md §5, §6):
// each operation's 402 asks exactly its price, a free operation is served without payment, bad
// maps answer `invalid_price`, a spend cap holds with mixed prices, and a change shows at once.
import { describe, expect, it } from "vitest";
import type { TenantConfig } from "../../src/config/tenant-config.ts";
import { requirementsFor } from "../../src/payments/requirements.ts";
import { auth, call, CITIES_CSV, createCreator, deployDataset, deployOk, expectError, uniqueSlug } from "./helpers.ts";
import { admitPaid, claim, codes, commit, configured, refused, T0 } from "./meter-payment-helpers.ts";

const ASSET = { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", name: "USDC", version: "2", decimals: 6 };
const PAY_TO = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const PRICES = { "GET /v1/records": 0.001, "GET /v1/records/{id}": 0.002, "GET /v1/schema": 0 };
const PAID = { priceUsd: 0.005, payTo: PAY_TO, network: "eip155:84532", asset: ASSET };

async function asked(path: string): Promise<string> {
  const res = await call(path);
  expect(res.status).toBe(402);
  const required = JSON.parse(atob(res.headers.get("payment-required")!));
  expect(required.accepts).toHaveLength(1);
  return required.accepts[0].amount as string;
}

function patch(key: string, slug: string, body: unknown): Promise<Response> {
  const headers = { ...auth(key), "content-type": "application/json" };
  return call(`/v1/tenants/${slug}`, { method: "PATCH", headers, body: JSON.stringify(body) });
}

describe("price per operation", () => {
  it("asks each operation's own price, serves the free one without payment, the default for the rest", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("priced");
    const deployed = await deployOk(creator.key, slug, CITIES_CSV, { config: { ...PAID, prices: PRICES } });
    expect(deployed.tenant.prices).toEqual(PRICES);
    expect(await asked(`/t/${slug}/v1/records?country=FR`)).toBe("1000");
    expect(await asked(`/t/${slug}/v1/records/1`)).toBe("2000");
    expect(await asked(`/t/${slug}/health`)).toBe("5000");
    const free = await call(`/t/${slug}/v1/schema`);
    expect(free.status).toBe(200);
    expect(free.headers.get("payment-required")).toBeNull();
    expect(await free.json()).toMatchObject({ idField: "id" });

    // A PATCH replaces the map; the next call is priced by it.
    const patched = await patch(creator.key, slug, { prices: { "GET /v1/records/{id}": 0.003, "GET /v1/records": 0 } });
    expect(patched.status).toBe(200);
    expect(await asked(`/t/${slug}/v1/records/1`)).toBe("3000");
    expect((await call(`/t/${slug}/v1/records`)).status).toBe(200);
    expect(await asked(`/t/${slug}/v1/schema`)).toBe("5000");
  });

  it("makes a tenant with a free default paid only where an operation has a price", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("priced");
    const config = { ...PAID, priceUsd: 0, prices: { "GET /v1/records/{id}": 0.25 } };
    await deployOk(creator.key, slug, CITIES_CSV, { config });
    expect((await call(`/t/${slug}/v1/records`)).status).toBe(200);
    expect(await asked(`/t/${slug}/v1/records/2`)).toBe("250000");
  });

  it("refuses bad maps with invalid_price at deploy and PATCH, and needs payTo for a priced operation", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("priced");
    const twins = { "GET /a/{x}": 1, "GET /a/{y}": 2 };
    const bad = [{ "GET /v1/records": -1 }, { "FETCH /v1": 1 }, { "GET v1": 1 }, twins, "cheap"];
    const deploy = (config: unknown) => deployDataset(creator.key, slug, CITIES_CSV, { config });
    for (const prices of bad) {
      const body = await expectError(await deploy({ ...PAID, prices }), 400, "invalid_price");
      expect(body.error.message).toMatch(/^prices/);
    }
    await expectError(await deploy({ prices: { "GET /v1/records": 0.1 } }), 400, "invalid_config");
    await deployOk(creator.key, slug, CITIES_CSV, { config: PAID });
    await expectError(await patch(creator.key, slug, { prices: { "GET /v1/records": -0.5 } }), 400, "invalid_price");
    await expectError(await patch(creator.key, slug, { prices: { "GET /v1/records/{id": 0.5 } }), 400, "invalid_price");
    expect(await asked(`/t/${slug}/v1/records`)).toBe("5000");
  });

  it("holds a spend cap with two prices: the amounts the requirements ask are what the meter reserves", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("priced");
    const deployed = await deployOk(creator.key, slug, CITIES_CSV, { config: { ...PAID, prices: PRICES } });
    const tenant = deployed.tenant as TenantConfig;
    const cheap = requirementsFor(tenant, "GET", "/v1/records")!.amount;
    const dear = requirementsFor(tenant, "GET", "/v1/records/7")!.amount;
    expect([cheap, dear]).toEqual(["1000", "2000"]);
    expect(requirementsFor(tenant, "GET", "/v1/schema")).toBeNull();

    const { stub } = await configured({ spendCapsAtomic: { daily: "5000" } });
    const first = [claim({ amountAtomic: dear }), claim({ amountAtomic: dear })];
    expect(codes(await Promise.all(first.map((p) => admitPaid(stub, p))))).toEqual({ ok: 2 });
    // 4000 of 5000 reserved: a 2000 call no longer fits, a 1000 call still does, then nothing.
    expect(refused(await admitPaid(stub, claim({ amountAtomic: dear }))).code).toBe("spend_cap_exceeded");
    const last = claim({ amountAtomic: cheap });
    expect((await admitPaid(stub, last)).ok).toBe(true);
    expect(refused(await admitPaid(stub, claim({ amountAtomic: cheap }))).code).toBe("spend_cap_exceeded");
    await commit(stub, first[0]!);
    await commit(stub, last);
    // Earnings settle at each call's own price: 2000 + 1000 settled, the other 2000 still reserved.
    expect((await stub.spend(T0)).daily).toEqual({ settled: "3000", reserved: "2000" });
  });
});
