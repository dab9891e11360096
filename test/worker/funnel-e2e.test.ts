// The funnel end to end inside workerd: unpaid requests to a paid tenant through the dispatcher →
// the gateway's one recording site (which fingerprints each challenged request) → the isolate's
// usage fold → the TenantMeter's outbox → Leaderboard ingest → rollup → /v1/apis/:slug. A client that repeats its
// unpaid request is one challenged request; another query, method or caller is another.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { challengeDigest } from "../../objects/leaderboard/challenge-keys.ts";
import { requestFingerprint } from "../../objects/meter/fingerprint.ts";
import { callerFromIp } from "../../src/tenancy/caller.ts";
import type { UsageEvent } from "../../objects/shared/usage-event.ts";
import { leaderboardFor } from "../../objects/leaderboard/shards.ts";
import type { TenantMeter } from "../../objects/meter/tenant-meter.ts";
import { call, CITIES_CSV, createCreator, deployOk, OPERATOR, uniqueSlug } from "./helpers.ts";
import { cfg, usage } from "./meter-helpers.ts";

const ASSET = { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", name: "USDC", version: "2", decimals: 6 };
const PAY_TO = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";

async function deliver(slug: string): Promise<void> {
  // Let the dispatcher's usage buffer flush (≤ 50 ms), then run the meter's alarm (delivery).
  await new Promise((r) => setTimeout(r, 120));
  await runDurableObjectAlarm(env.TENANT_METER.get(env.TENANT_METER.idFromName(slug)));
}

describe("the funnel through the gateway", () => {
  it("counts a repeated unpaid request once, distinct requests and callers apart", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("funnel");
    const config = { priceUsd: 0.001, payTo: PAY_TO, network: "eip155:84532", asset: ASSET };
    await deployOk(creator.key, slug, CITIES_CSV, { config });
    const get = (query: string, ip: string) =>
      call(`/t/${slug}/v1/records${query}`, { headers: { "cf-connecting-ip": ip } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await get("?limit=1", "198.51.100.1")).status); // one request, 4×
    statuses.push((await get("?limit=2", "198.51.100.1")).status); // another query
    statuses.push((await get("?limit=1", "198.51.100.2")).status); // another caller
    expect(statuses).toEqual([402, 402, 402, 402, 402, 402]);
    await deliver(slug);

    // The gateway sends aggregated rows (no raw events): the shard's claimed challenged requests
    // are the digests of what it was given, one per (caller, request).
    const claimed = await runInDurableObject(leaderboardFor(env, slug), (_i, state) =>
      state.storage.sql
        .exec<{ key: string }>("SELECT key FROM challenge_seen")
        .toArray()
        .map((r) => r.key),
    );
    const callerOf = (ip: string) =>
      callerFromIp(new Request("http://x/", { headers: { "cf-connecting-ip": ip } }), env.API_KEY_SECRET);
    const limit1 = await requestFingerprint("GET", "/v1/records", "limit=1");
    const limit2 = await requestFingerprint("GET", "/v1/records", "limit=2");
    const [ip1, ip2] = [await callerOf("198.51.100.1"), await callerOf("198.51.100.2")];
    const expected = [
      challengeDigest(slug, ip1, limit1),
      challengeDigest(slug, ip1, limit2),
      challengeDigest(slug, ip2, limit1),
    ];
    expect(claimed.sort()).toEqual(expected.sort());

    const rollup = await call("/__platform/rollup", { method: "POST", headers: OPERATOR });
    expect(rollup.status).toBe(200);
    const res = await call(`/v1/apis/${slug}`);
    const metrics = (await res.json<any>()).api.windows.overall.metrics;
    expect({ events: metrics.events, challenges: metrics.challenges, calls: metrics.calls }).toEqual({
      events: 6,
      challenges: 3,
      calls: 0,
    });
  });

  it("the meter passes a challenge's fingerprint on, and drops one that is not a fingerprint", async () => {
    const slug = uniqueSlug("funnel-meter");
    const meter = env.TENANT_METER.get(env.TENANT_METER.idFromName(slug)) as DurableObjectStub<TenantMeter>;
    const events = { owner: "cr_f", directory: "general", network: "eip155:84532", env: "test" as const };
    await meter.configure(cfg({ slug, priceAtomic: "1000", events }));
    const fp = await requestFingerprint("GET", "/v1/records", "");
    const challenged = { outcome: "payment_challenged", status: 402, ts: Date.now() } as const;
    const bad = [{ fingerprint: "v".repeat(129) }, { fingerprint: 7 as unknown as string }, { fingerprint: "" }];
    const records = [{ fingerprint: fp }, ...bad].map((f, i) => usage({ ...challenged, requestId: `r${i}`, ...f }));
    expect(await meter.recordBatch(records)).toEqual({ recorded: 4, rejected: 0 });
    await runDurableObjectAlarm(meter);
    const recent = await leaderboardFor(env, slug).recentEvents({ apiId: slug, limit: 10 });
    const byId = new Map((recent.items as UsageEvent[]).map((e) => [e.requestId, e.fingerprint]));
    expect(Object.fromEntries(byId)).toEqual({ r0: fp, r1: undefined, r2: undefined, r3: undefined });
  });
});
