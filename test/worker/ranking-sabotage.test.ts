// Only the tenant's own failures count against its quality (issue 9 item 3): an anonymous caller
// who sends bad paths and bad input to a free API cannot move its Q or its score down. The calls
// go through the real dispatcher, the TenantMeter's outbox, the Leaderboard and a forced rollup.
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, CITIES_CSV, createCreator, deployOk, OPERATOR, uniqueSlug } from "./helpers.ts";

async function deliver(slug: string): Promise<void> {
  // The dispatcher's usage buffer flushes within 50 ms; the meter's alarm delivers its outbox.
  await new Promise((r) => setTimeout(r, 120));
  await runDurableObjectAlarm(env.TENANT_METER.get(env.TENANT_METER.idFromName(slug)));
}

async function overall(slug: string): Promise<any> {
  await deliver(slug);
  const rollup = await call("/__platform/rollup", { method: "POST", headers: OPERATOR });
  expect(rollup.status).toBe(200);
  const res = await call(`/v1/apis/${slug}`);
  expect(res.status).toBe(200);
  return (await res.json<any>()).api.windows.overall;
}

describe("ranking sabotage", () => {
  it("20 good calls plus bad paths and bad input from an anonymous caller: Q and score do not go down", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("sabotage");
    await deployOk(creator.key, slug, CITIES_CSV);
    for (let i = 0; i < 20; i++) {
      const res = await call(`/t/${slug}/v1/records`, { headers: { "cf-connecting-ip": `198.51.100.${i + 1}` } });
      expect(res.status).toBe(200);
    }
    const before = await overall(slug);
    expect(before.metrics.calls).toBe(20);
    expect(before.metrics.successRate).toBe(1);
    expect(before.score).toBeGreaterThan(0);

    const anonymous = { "cf-connecting-ip": "203.0.113.66" };
    const bad: { path: string; init?: RequestInit; status: number }[] = [
      { path: "/no/such/endpoint", status: 404 }, // bad path: the tenant answers 404
      { path: "/v1/records?limit=abc", status: 400 }, // bad input: the tenant answers 400
      { path: "/v1/records/99999", status: 404 },
      { path: "/v1/records", init: { method: "POST" }, status: 405 },
      // Paths the platform once failed on (500): now opaque paths the tenant answers 404 to.
      { path: "//%00", status: 404 },
      { path: "//:99999", status: 404 },
      { path: "//[", status: 404 },
      { path: "/v1/records", init: { method: "POST", body: "x".repeat(1024 * 1024 + 1) }, status: 413 },
    ];
    let sent = 0;
    for (let round = 0; round < 3; round++) {
      for (const b of bad) {
        const res = await call(`/t/${slug}${b.path}`, { ...b.init, headers: anonymous });
        expect(res.status, b.path).toBe(b.status);
        expect((await res.json<any>()).error.code, b.path).toEqual(expect.any(String));
        sent++;
      }
    }

    const after = await overall(slug);
    // Every bad call reached the leaderboard as an event, none as a failure of the API.
    expect(after.metrics.events).toBe(before.metrics.events + sent);
    expect(after.metrics.successRate).toBe(1);
    expect(after.breakdown.Q).toBeGreaterThanOrEqual(before.breakdown.Q);
    expect(after.score).toBeGreaterThanOrEqual(before.score);
  });
});
