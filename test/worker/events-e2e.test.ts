// Usage events end to end inside workerd: real calls through the dispatcher → the TenantMeter's
// outbox (same transaction as the record) → Leaderboard ingest → rollup into D1 → public API.
// Refusals are delivered but never count; a meter evicted before delivery loses nothing.
import { env, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, CITIES_CSV, createCreator, deployOk, OPERATOR, uniqueSlug } from "./helpers.ts";

async function settle(slug: string): Promise<void> {
  // Let the dispatcher's usage buffer flush (≤ 50 ms), then run the meter's alarm (delivery).
  await new Promise((r) => setTimeout(r, 120));
  const meter = env.TENANT_METER.get(env.TENANT_METER.idFromName(slug));
  await runDurableObjectAlarm(meter);
}

async function apiWindow(slug: string): Promise<any> {
  const rollup = await call("/__platform/rollup", { method: "POST", headers: OPERATOR });
  expect(rollup.status).toBe(200);
  const res = await call(`/v1/apis/${slug}`);
  expect(res.status).toBe(200);
  return (await res.json<any>()).api.windows.overall;
}

describe("usage events reach the leaderboard", () => {
  it("served free calls count; refusals are delivered but never count; nothing is lost across an eviction", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("events");
    await deployOk(creator.key, slug, CITIES_CSV, {
      config: { rateLimit: { perCaller: { requests: 2, windowSeconds: 3600 } } },
    });
    // 8 callers × 3 calls: 2 served + 1 rate-limited each.
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 3; j++)
        await call(`/t/${slug}/v1/records`, { headers: { "cf-connecting-ip": `198.51.100.${i}` } });
    }
    await new Promise((r) => setTimeout(r, 120));
    // Evict the meter before its alarm delivered anything: the outbox is durable.
    const meter = env.TENANT_METER.get(env.TENANT_METER.idFromName(slug));
    await evictDurableObject(meter);
    await settle(slug);
    const overall = await apiWindow(slug);
    expect(overall.metrics.calls).toBe(16);
    expect(overall.metrics.refusals).toBe(8);
    expect(overall.metrics.payers).toBe(8);
    expect(overall.metrics.events).toBe(24);

    // Delivering again (at least once) doubles nothing.
    await settle(slug);
    expect((await apiWindow(slug)).metrics.calls).toBe(16);
  });
});
