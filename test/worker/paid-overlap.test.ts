// The work a paid call starts during /verify (src/gateway/paid-overlap.ts) against a real
// deployed dataset tenant, its real TenantMeter and the Worker Loader: the provisional admit
// locks the payment and only then does the read-only tenant run, its answer buffered, without
// any verify answer; 20 copies of one payment run the tenant once; discarding withdraws the
// admit, and which tenants count as read-only.
import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { configOf } from "../../src/config/env.ts";
import type { TenantConfig } from "../../src/config/tenant-config.ts";
import type { CallContext } from "../../src/gateway/context.ts";
import { discardEarly, isReadOnly, startEarly } from "../../src/gateway/paid-overlap.ts";
import { paidAdmitRequest } from "../../src/payments/claim.ts";
import type { DecodedPayment } from "../../src/payments/payment-header.ts";
import { requirementsFor } from "../../src/payments/requirements.ts";
import { TenantDirectory } from "../../src/tenancy/directory.ts";
import { meterFor } from "../../src/tenancy/meter-config.ts";
import { CITIES_CSV, createCreator, deployOk, uniqueSlug } from "./helpers.ts";

const ASSET = { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", name: "USDC", version: "2", decimals: 6 };
const PAY_TO = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const FROM = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";

async function paidTenant(): Promise<TenantConfig> {
  const creator = await createCreator();
  const slug = uniqueSlug("overlap");
  await deployOk(creator.key, slug, CITIES_CSV, {
    config: { priceUsd: 0.001, payTo: PAY_TO, network: "eip155:84532", asset: ASSET },
  });
  const tenant = await new TenantDirectory(env.DB, 0).bySlug(slug);
  if (!tenant) throw new Error("deployed tenant not found");
  return tenant;
}

function callContext(): CallContext {
  const ctx = Object.assign(createExecutionContext(), { exports });
  return { env, ctx, config: configOf(env), requestId: `req-${crypto.randomUUID()}`, startedAt: Date.now() };
}

let nonce = 0;
/** A payment as the header decoder hands it over (the signature is never checked here). */
function decodedPayment(tenant: TenantConfig): DecodedPayment {
  const requirements = requirementsFor(tenant, "GET", "/v1/records")!;
  const authorization = {
    from: FROM,
    to: PAY_TO,
    value: requirements.amount,
    validAfter: "0",
    validBefore: String(Math.floor(Date.now() / 1000) + 300),
    nonce: `0x${(++nonce).toString(16).padStart(64, "0")}`,
  };
  const payload = { x402Version: 2, accepted: requirements, payload: { signature: "0x01", authorization } };
  return { scheme: "exact", payload: payload as DecodedPayment["payload"], authorization };
}

function early(tenant: TenantConfig, decoded: DecodedPayment, call = callContext()) {
  const requirements = requirementsFor(tenant, "GET", "/v1/records")!;
  const keys = { idempotencyKey: null, paymentIdentifier: null, fingerprint: "v1:test" };
  const { requestId, startedAt: now } = call;
  const req = { ...paidAdmitRequest(requirements, decoded, FROM, { now, requestId, ...keys }), provisional: true };
  const request = new Request(`http://localhost/t/${tenant.slug}/v1/records?country=FR`);
  return { call, work: startEarly(call, meterFor(env, tenant.slug), tenant, req, { request, path: "/v1/records" }) };
}

describe("early work of a paid call", () => {
  it("admits provisionally, then runs the dataset, body buffered; discarded, the admit is withdrawn", async () => {
    const tenant = await paidTenant();
    const decoded = decodedPayment(tenant);
    const { call, work } = early(tenant, decoded);
    const admitted = await work.admit;
    expect(admitted.ok && admitted.value.ok).toBe(true);
    const run = await work.run;
    expect(run?.kind).toBe("answered");
    if (run?.kind !== "answered") return;
    expect(run.response.status).toBe(200);
    const body = (await run.response.json()) as any;
    expect(body.items.map((r: any) => r.city)).toEqual(["Paris", "Lyon"]);
    const meter = meterFor(env, tenant.slug);
    const id = work.admitRequest.payment.id;
    expect(await meter.paymentStatus(id)).toMatchObject({ status: "in_flight", requestId: call.requestId });
    await discardEarly(call, meter, work);
    expect(await meter.paymentStatus(id)).toBeNull();
  });

  it("20 copies of one payment at once: one admit, one tenant run", async () => {
    const tenant = await paidTenant();
    const decoded = decodedPayment(tenant);
    const copies = Array.from({ length: 20 }, () => early(tenant, decoded).work);
    const runs = await Promise.all(copies.map((c) => c.run));
    expect(runs.filter((r) => r !== null)).toHaveLength(1);
    const codes = await Promise.all(
      copies.map(async (c) => {
        const a = await c.admit;
        return a.ok ? (a.value.ok ? "ok" : a.value.code) : "threw";
      }),
    );
    expect(codes.filter((c) => c === "ok")).toHaveLength(1);
    expect(codes.filter((c) => c === "payment_in_flight")).toHaveLength(19);
  });

  it("only datasets, and only GET and HEAD, count as read-only", async () => {
    const tenant = await paidTenant();
    expect(isReadOnly(tenant, "GET")).toBe(true);
    expect(isReadOnly(tenant, "HEAD")).toBe(true);
    expect(isReadOnly(tenant, "POST")).toBe(false);
    const proxy = { ...tenant, resource: { type: "proxy" } } as unknown as TenantConfig;
    const fn = { ...tenant, resource: { type: "function" } } as unknown as TenantConfig;
    expect(isReadOnly(proxy, "GET")).toBe(false);
    expect(isReadOnly(fn, "GET")).toBe(false);
  });
});
