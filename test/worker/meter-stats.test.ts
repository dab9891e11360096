// TenantMeter inside workerd with real Durable Objects: headers, config ordering, persistence
// across eviction, stats and housekeeping (docs/ARCHITECTURE.md §4).
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TenantMeter } from "../../objects/meter/tenant-meter.ts";
import type { UsageRecord } from "../../objects/meter/types.ts";
import {
  YEAR,
  T0,
  SECOND,
  DAY,
  cfg,
  configured,
  admitMany,
  thrownInside,
  admitted,
  refusal,
  usage,
} from "./meter-helpers.ts";

describe("TenantMeter: headers", () => {
  it("returns consistent draft and X- headers on success and refusal", async () => {
    const stub = await configured({
      rateLimit: { perCaller: { requests: 3, windowSeconds: 60 }, global: { requests: 100, windowSeconds: 60 } },
      usageLimit: { dailyRequests: 50, monthlyRequests: 1000 },
    });
    const now = Date.UTC(YEAR, 5, 10, 18, 0, 0);
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await stub.admit({ caller: "h", now }));
    const [first, , third, fourth] = results;
    expect(first!.headers).toEqual({
      "RateLimit-Policy": '"caller";q=3;w=60, "global";q=100;w=60, "daily";q=50;w=86400, "monthly";q=1000;w=2592000',
      RateLimit: '"caller";r=2;t=20, "global";r=99;t=1, "daily";r=49;t=21600, "monthly";r=999;t=1749600',
      "X-RateLimit-Limit": "3",
      "X-RateLimit-Remaining": "2",
      "X-RateLimit-Reset": "20",
      "X-Usage-Daily-Limit": "50",
      "X-Usage-Daily-Remaining": "49",
      "X-Usage-Monthly-Limit": "1000",
      "X-Usage-Monthly-Remaining": "999",
      "X-Usage-Reset": "21600",
    });
    expect(third!.headers["X-RateLimit-Remaining"]).toBe("0");
    expect(third!.headers["X-RateLimit-Reset"]).toBe("60");
    const refused = refusal(fourth!);
    expect(refused.headers["Retry-After"]).toBe("20");
    expect(refused.headers["X-RateLimit-Remaining"]).toBe("0");
    expect(refused.headers["X-Usage-Daily-Remaining"]).toBe("47"); // the refusal did not count
    expect(refused.headers["RateLimit"]).toContain('"global";r=97;');
  });
});

describe("TenantMeter: configuration", () => {
  it("ignores an older version pushed after a newer one", async () => {
    const stub = await configured({ version: 2, rateLimit: { global: { requests: 1, windowSeconds: 3600 } } });
    expect(await stub.configure(cfg({ version: 1 }))).toEqual({ applied: false, version: 2 });
    const [a, b] = [await stub.admit({ caller: "c", now: T0 }), await stub.admit({ caller: "c", now: T0 })];
    expect(a).toMatchObject({ ok: true, configVersion: 2 });
    expect(b).toMatchObject({ ok: false, code: "rate_limited", configVersion: 2 });
    expect(
      await stub.configure(cfg({ version: 2, rateLimit: { global: { requests: 1, windowSeconds: 3600 } } })),
    ).toEqual({ applied: true, version: 2 });
    expect(await stub.configure(cfg({ version: 3 }))).toEqual({ applied: true, version: 3 });
    expect(await stub.admit({ caller: "c", now: T0 })).toEqual({ ok: true, configVersion: 3, headers: {} });
  });

  it("clamps existing buckets to a smaller capacity and keeps them under a larger one", async () => {
    const stub = await configured({ rateLimit: { perCaller: { requests: 100, windowSeconds: 3600 } } });
    expect(admitted(await admitMany(stub, 10, () => "c", T0))).toBe(10); // 90 left
    await stub.configure(cfg({ version: 2, rateLimit: { perCaller: { requests: 5, windowSeconds: 3600 } } }));
    expect(admitted(await admitMany(stub, 10, () => "c", T0))).toBe(5);
    await stub.configure(cfg({ version: 3, rateLimit: { perCaller: { requests: 50, windowSeconds: 3600 } } }));
    // Raising the limit does not hand out a fresh bucket: still empty.
    expect((await stub.admit({ caller: "c", now: T0 })).ok).toBe(false);
    expect((await stub.admit({ caller: "fresh", now: T0 })).headers["X-RateLimit-Remaining"]).toBe("49");
  });

  it("a daily quota switched on mid-day counts the calls already recorded today", async () => {
    const stub = await configured({});
    const now = Date.now();
    for (let i = 0; i < 3; i++) await stub.record(usage({ ts: now, caller: `c${i}` }));
    await stub.record(usage({ ts: now, caller: "r", outcome: "rate_limited", status: 429 }));
    await stub.configure(cfg({ version: 2, usageLimit: { dailyRequests: 5 } }));
    const r = await admitMany(stub, 5, (i) => `c${i}`, now);
    expect(admitted(r)).toBe(2);
  });
});

describe("TenantMeter: persistence", () => {
  it("keeps config, buckets and quota counts across an eviction", async () => {
    const stub = await configured({
      version: 7,
      rateLimit: { perCaller: { requests: 100, windowSeconds: 3600 } },
      usageLimit: { dailyRequests: 150, monthlyRequests: 170 },
    });
    expect(admitted(await admitMany(stub, 60, () => "p", T0))).toBe(60);
    expect(admitted(await admitMany(stub, 60, () => "q", T0))).toBe(60);
    await evictDurableObject(stub);

    const afterEviction = await admitMany(stub, 100, () => "p", T0);
    expect(admitted(afterEviction)).toBe(30); // daily 150 - 120
    const oks = afterEviction.filter((x) => x.ok);
    expect(oks.every((x) => x.configVersion === 7)).toBe(true);
    const least = (h: string) => Math.min(...oks.map((x) => Number(x.headers[h])));
    expect(least("X-RateLimit-Remaining")).toBe(10); // 100 - 60 - 30
    expect(least("X-Usage-Daily-Remaining")).toBe(0);

    await evictDurableObject(stub);
    // Next day: the monthly count (150) survives, 20 left.
    expect(admitted(await admitMany(stub, 100, (i) => `n${i}`, T0 + DAY))).toBe(20);
  });
});

describe("TenantMeter: stats", () => {
  it("aggregates calls, outcomes, unique callers and latency percentiles per window", async () => {
    const stub = await configured({ version: 4 });
    const today = Date.UTC(YEAR, 5, 10, 9, 30);
    const earlierThisMonth = Date.UTC(YEAR, 5, 2, 9, 30);
    const lastMonth = Date.UTC(YEAR, 4, 20, 9, 30);

    // Today: 20 served calls, 10 at ~3 ms and 10 at ~40 ms, and one at 700 ms; 2 errors; 3 refused.
    const records: UsageRecord[] = [];
    for (let i = 0; i < 10; i++) records.push(usage({ ts: today + i, caller: `a${i % 4}`, latencyMs: 3 }));
    for (let i = 0; i < 10; i++)
      records.push(usage({ ts: today + i, caller: `a${i % 4}`, latencyMs: 40, callerLabel: "agent-x" }));
    records.push(usage({ ts: today + 3_600_000, caller: "slow", latencyMs: 700 }));
    records.push(usage({ ts: today, caller: "e1", status: 502, latencyMs: 30, outcome: "tenant_error" }));
    records.push(usage({ ts: today, caller: "e2", status: 500, latencyMs: 30, outcome: "served" }));
    for (let i = 0; i < 3; i++)
      records.push(usage({ ts: today, caller: "limited", status: 429, latencyMs: 0, outcome: "rate_limited" }));
    records.push(usage({ ts: earlierThisMonth, caller: "a0", latencyMs: 5 }));
    records.push(usage({ ts: earlierThisMonth, caller: "m1", latencyMs: 5 }));
    records.push(usage({ ts: lastMonth, caller: "old", latencyMs: 5, status: 404, outcome: "tenant_error" }));
    await Promise.all(records.map((r) => stub.record(r)));

    const stats = await stub.stats(Date.UTC(YEAR, 5, 10, 23, 0));
    expect(stats.configVersion).toBe(4);
    const { today: d, month: m, total: t } = stats.windows;
    expect(d).toMatchObject({ calls: 26, served: 22, errors: 2, refused: 3, uniqueCallers: 8 });
    expect(m).toMatchObject({ calls: 28, served: 24, errors: 2, refused: 3, uniqueCallers: 9 });
    expect(t).toMatchObject({ calls: 29, served: 24, errors: 3, refused: 3, uniqueCallers: 10 });

    // Today's 23 latencies (refusals excluded): 10 × 3 ms, 2 × 30 ms, 10 × 40 ms, 1 × 700 ms.
    // p50 is the 12th (30 ms) → bucket (20, 50]; p95 is the 22nd (40 ms) → also (20, 50].
    expect(d.p50LatencyMs).toBeGreaterThan(20);
    expect(d.p50LatencyMs).toBeLessThanOrEqual(50);
    expect(d.p95LatencyMs).toBeGreaterThan(20);
    expect(d.p95LatencyMs).toBeLessThanOrEqual(50);

    // A window with nothing in it.
    const empty = (await stub.stats(Date.UTC(YEAR + 1, 0, 1))).windows.today;
    expect(empty).toEqual({
      calls: 0,
      served: 0,
      errors: 0,
      refused: 0,
      uniqueCallers: 0,
      p50LatencyMs: null,
      p95LatencyMs: null,
    });
  });

  it("stores the caller label as data without using it for identity", async () => {
    const stub = await configured({});
    await stub.record(usage({ caller: "ip-hash-1", callerLabel: "bot-a" }));
    await stub.record(usage({ caller: "ip-hash-1", callerLabel: "bot-b" }));
    await stub.record(usage({ caller: "ip-hash-2", callerLabel: "bot-a" }));
    expect((await stub.stats(T0)).windows.today.uniqueCallers).toBe(2);
    const labels = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql
        .exec<{ caller: string; label: string }>("SELECT caller, label FROM caller_days ORDER BY caller")
        .toArray(),
    );
    expect(labels).toEqual([
      { caller: "ip-hash-1", label: "bot-a" },
      { caller: "ip-hash-2", label: "bot-a" },
    ]);
  });

  it("rejects a malformed usage record", async () => {
    const stub = await configured({});
    expect(
      await thrownInside(stub, (m) => m.record({ ...usage({}), outcome: "paid" as UsageRecord["outcome"] })),
    ).toMatch(/outcome/);
    expect(await thrownInside(stub, (m) => m.record({ ...usage({}), ts: Number.NaN }))).toMatch(/ts must be/);
    expect((await stub.stats(T0)).windows.total.calls).toBe(0);
  });
});

describe("TenantMeter: housekeeping", () => {
  it("schedules no alarm for a tenant without limits or records", async () => {
    const stub = await configured({});
    await admitMany(stub, 20, (i) => `c${i}`, T0);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
  });

  it("schedules one alarm lazily, prunes full buckets and old caller-days, and loses nothing that matters", async () => {
    const stub = await configured({
      rateLimit: { perCaller: { requests: 10, windowSeconds: 60 } },
      usageLimit: { dailyRequests: 1000 },
    });
    await admitMany(stub, 10, (i) => `c${i}`, T0); // ten callers, one token each
    expect(admitted(await admitMany(stub, 11, () => "busy", T0))).toBe(10); // "busy" is empty
    await stub.record(usage({ ts: T0, caller: "c0" }));
    await stub.record(usage({ ts: T0 + 50 * DAY, caller: "c1" }));

    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeGreaterThanOrEqual(T0 + 15 * 60 * SECOND); // never sooner than the minimum delay
    expect(alarm!).toBeLessThanOrEqual(T0 + DAY);

    const countRows = (sql: string) =>
      runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ n: number }>(sql).one().n);
    expect(await countRows("SELECT COUNT(*) AS n FROM buckets")).toBe(11);

    // 30 s later: the one-token buckets are full again (10 per 60 s), "busy" is not.
    const next = await runInDurableObject(stub, (instance) => (instance as TenantMeter).housekeep(T0 + 30 * SECOND));
    expect(await countRows("SELECT COUNT(*) AS n FROM buckets")).toBe(1);
    expect(next).toBe(T0 + 30 * SECOND + 15 * 60 * SECOND); // "busy" full at T0 + 60 s, floored to the minimum delay
    const busy = await stub.admit({ caller: "busy", now: T0 + 30 * SECOND });
    expect(busy.headers["X-RateLimit-Remaining"]).toBe("4"); // 5 refilled - 1, state survived the prune
    const pruned = await stub.admit({ caller: "c3", now: T0 + 30 * SECOND });
    expect(pruned.headers["X-RateLimit-Remaining"]).toBe("9"); // a pruned row is a full bucket

    // 45 days on: T0's caller-day is gone, the one from day 50 stays; the daily counter of T0 too.
    await runInDurableObject(stub, (instance) => (instance as TenantMeter).housekeep(T0 + 45 * DAY));
    expect(await countRows("SELECT COUNT(*) AS n FROM caller_days")).toBe(1);
    expect(await countRows("SELECT COUNT(*) AS n FROM quota_counts WHERE kind = 'd'")).toBe(0);
    expect((await stub.stats(T0 + 50 * DAY)).windows.total.uniqueCallers).toBe(2);
  });
});
