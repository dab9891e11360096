// TenantMeter inside workerd with real Durable Objects: exact admission under concurrency
// (DESIGN §9.1), refill, burst, quotas across UTC windows, headers, config ordering,
// persistence across eviction, stats and housekeeping.
//
// Clock: every call passes `now` a few years in the future. The meter's alarm runs on the real
// clock, so future timestamps keep it from firing (and pruning) in the middle of a test.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AdmitResult, MeterConfig, UsageRecord } from "../../objects/meter-types.ts";
import type { TenantMeter } from "../../objects/tenant-meter.ts";

const YEAR = new Date().getUTCFullYear() + 3;
/** 10 June, noon UTC, three years from now. */
const T0 = Date.UTC(YEAR, 5, 10, 12, 0, 0);
const SECOND = 1000;
const DAY = 86_400_000;

let counter = 0;
function freshMeter(): DurableObjectStub<TenantMeter> {
  const slug = `meter-test-${++counter}-${crypto.randomUUID().slice(0, 8)}`;
  return env.TENANT_METER.get(env.TENANT_METER.idFromName(slug)) as DurableObjectStub<TenantMeter>;
}

function cfg(overrides: Partial<MeterConfig> = {}): MeterConfig {
  return {
    slug: "weather-data",
    version: 1,
    deleted: false,
    rateLimit: {},
    usageLimit: {},
    spendLimit: {},
    priceAtomic: "0",
    ...overrides,
  };
}

async function configured(overrides: Partial<MeterConfig>): Promise<DurableObjectStub<TenantMeter>> {
  const stub = freshMeter();
  const result = await stub.configure(cfg(overrides));
  expect(result).toEqual({ applied: true, version: overrides.version ?? 1 });
  return stub;
}

function admitMany(stub: DurableObjectStub<TenantMeter>, n: number, caller: (i: number) => string, now: number): Promise<AdmitResult[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => stub.admit({ caller: caller(i), now })));
}

/** Runs `fn` inside the object and returns what it threw, as "Name: message" ("" if nothing). */
function thrownInside(stub: DurableObjectStub<TenantMeter>, fn: (meter: TenantMeter) => unknown): Promise<string> {
  return runInDurableObject(stub, (meter) => {
    try {
      fn(meter);
      return "";
    } catch (err) {
      return String(err);
    }
  });
}

function admitted(results: AdmitResult[]): number {
  return results.filter((r) => r.ok).length;
}

function refusal(r: AdmitResult): Extract<AdmitResult, { ok: false }> {
  if (r.ok) throw new Error("expected a refusal, got an admit");
  return r;
}

describe("TenantMeter: tenant state", () => {
  it("refuses every call with 503 tenant_not_configured before the first configure", async () => {
    const r = refusal(await freshMeter().admit({ caller: "c1", now: T0 }));
    expect(r).toMatchObject({ code: "tenant_not_configured", status: 503, configVersion: 0, headers: {} });
  });

  it("refuses a deleted tenant with 404 tenant_not_found", async () => {
    const stub = await configured({ rateLimit: { global: { requests: 10, windowSeconds: 60 } } });
    expect((await stub.admit({ caller: "c1", now: T0 })).ok).toBe(true);
    await stub.configure(cfg({ version: 2, deleted: true }));
    const r = refusal(await stub.admit({ caller: "c1", now: T0 }));
    expect(r).toMatchObject({ code: "tenant_not_found", status: 404, configVersion: 2 });
  });

  it("admits everything and adds no headers when the tenant has no limits", async () => {
    const stub = await configured({});
    const results = await admitMany(stub, 50, (i) => `c${i}`, T0);
    expect(admitted(results)).toBe(50);
    expect(results[0]).toEqual({ ok: true, configVersion: 1, headers: {} });
  });

  it("rejects an invalid config and keeps the previous one", async () => {
    const stub = await configured({ rateLimit: { global: { requests: 1, windowSeconds: 60 } } });
    // Called in the object itself: a rejecting RPC leaks an unhandled rejection in vitest-plugin
    // (cloudflare/workers-sdk#14736), though the dispatcher would see the same TypeError.
    expect(await thrownInside(stub, (m) => m.configure(cfg({ version: 5, rateLimit: { global: { requests: 0, windowSeconds: 60 } } })))).toMatch(
      /^TypeError: invalid MeterConfig at rateLimit\.global\.requests/,
    );
    expect(await thrownInside(stub, (m) => m.configure({ ...cfg({ version: 6 }), priceAtomic: "0.5" }))).toMatch(/priceAtomic/);
    const r = await stub.admit({ caller: "c", now: T0 });
    expect(r.configVersion).toBe(1);
    expect(r.ok).toBe(true);
    expect((await stub.admit({ caller: "c", now: T0 })).ok).toBe(false);
  });
});

describe("TenantMeter: never over-admits under concurrency (DESIGN §9.1)", () => {
  it("500 concurrent admits against a global limit of 100 admit exactly 100", async () => {
    const stub = await configured({ rateLimit: { global: { requests: 100, windowSeconds: 3600 } } });
    const results = await admitMany(stub, 500, (i) => `caller-${i}`, T0);
    expect(admitted(results)).toBe(100);
    for (const r of results.filter((x) => !x.ok)) {
      expect(refusal(r)).toMatchObject({ code: "rate_limited", status: 429, retryAfterSeconds: 36 });
      expect(r.headers["Retry-After"]).toBe("36"); // 3600 s / 100 tokens
      expect(r.headers["X-RateLimit-Remaining"]).toBe("0");
    }
  });

  it("500 concurrent admits from one caller with perCaller 100 admit exactly 100; another caller still gets in", async () => {
    const stub = await configured({ rateLimit: { perCaller: { requests: 100, windowSeconds: 60 }, global: { requests: 10_000, windowSeconds: 60 } } });
    const results = await admitMany(stub, 500, () => "hot-caller", T0);
    expect(admitted(results)).toBe(100);
    const other = await stub.admit({ caller: "quiet-caller", now: T0 });
    expect(other.ok).toBe(true);
    // The 400 refusals took nothing from the global bucket: 10000 - 100 - 1.
    expect(other.headers["RateLimit"]).toBe('"caller";r=99;t=1, "global";r=9899;t=1');
  });

  it("500 concurrent admits against dailyRequests 100 admit exactly 100; the next UTC day admits again", async () => {
    const stub = await configured({ usageLimit: { dailyRequests: 100 } });
    const lateEvening = Date.UTC(YEAR, 5, 10, 23, 0, 0);
    const results = await admitMany(stub, 500, (i) => `c${i % 37}`, lateEvening);
    expect(admitted(results)).toBe(100);
    const r = refusal(results.find((x) => !x.ok)!);
    expect(r).toMatchObject({ code: "quota_exceeded", status: 429, retryAfterSeconds: 3600 });
    expect(r.headers["Retry-After"]).toBe("3600");
    expect(r.headers["X-Usage-Daily-Remaining"]).toBe("0");
    expect((await stub.admit({ caller: "c1", now: Date.UTC(YEAR, 5, 10, 23, 59, 59) })).ok).toBe(false);

    const nextDay = await admitMany(stub, 500, (i) => `c${i % 37}`, Date.UTC(YEAR, 5, 11, 0, 0, 0));
    expect(admitted(nextDay)).toBe(100);
    const first = nextDay.find((x) => x.ok)!;
    expect(first.headers["X-Usage-Daily-Limit"]).toBe("100");
  });

  it("500 concurrent admits against monthlyRequests 100 admit exactly 100; the next UTC month admits again", async () => {
    const stub = await configured({ usageLimit: { monthlyRequests: 100 } });
    const lastDay = Date.UTC(YEAR, 11, 31, 12, 0, 0);
    const results = await admitMany(stub, 500, (i) => `c${i}`, lastDay);
    expect(admitted(results)).toBe(100);
    const r = refusal(results.find((x) => !x.ok)!);
    expect(r.code).toBe("quota_exceeded");
    expect(r.headers["Retry-After"]).toBe(String(12 * 3600));
    // Another day in the same month is still refused.
    expect((await stub.admit({ caller: "x", now: Date.UTC(YEAR, 11, 1) + 1 })).ok).toBe(false);

    const nextMonth = await admitMany(stub, 500, (i) => `c${i}`, Date.UTC(YEAR + 1, 0, 1, 0, 0, 0));
    expect(admitted(nextMonth)).toBe(100);
  });

  it("mixed callers against perCaller and global limits admit exactly what both allow", async () => {
    // 10 callers × 50 calls; perCaller 20 would allow 200, global 150 caps it.
    const stub = await configured({ rateLimit: { perCaller: { requests: 20, windowSeconds: 60 }, global: { requests: 150, windowSeconds: 60 } } });
    const results = await admitMany(stub, 500, (i) => `c${i % 10}`, T0);
    expect(admitted(results)).toBe(150);
    const perCaller = new Map<string, number>();
    results.forEach((r, i) => {
      if (r.ok) perCaller.set(`c${i % 10}`, (perCaller.get(`c${i % 10}`) ?? 0) + 1);
    });
    for (const n of perCaller.values()) expect(n).toBeLessThanOrEqual(20);
  });
});

describe("TenantMeter: buckets over time", () => {
  it("refills at requests/windowSeconds and says when to retry", async () => {
    const stub = await configured({ rateLimit: { perCaller: { requests: 10, windowSeconds: 10 } } });
    expect(admitted(await admitMany(stub, 10, () => "a", T0))).toBe(10);
    const r = refusal(await stub.admit({ caller: "a", now: T0 + 999 }));
    expect(r.headers["Retry-After"]).toBe("1");
    expect((await stub.admit({ caller: "a", now: T0 + 1000 })).ok).toBe(true);
    expect((await stub.admit({ caller: "a", now: T0 + 1000 })).ok).toBe(false);
    // Ten seconds later the bucket is full again, never fuller.
    expect(admitted(await admitMany(stub, 15, () => "a", T0 + 60 * SECOND))).toBe(10);
  });

  it("allows a burst up to `burst`, then the sustained rate", async () => {
    const stub = await configured({ rateLimit: { perCaller: { requests: 1, windowSeconds: 2, burst: 5 } } });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await stub.admit({ caller: "b", now: T0 }));
    expect(results.map((r) => r.ok)).toEqual([true, true, true, true, true, false]);
    expect(results[0]!.headers["RateLimit-Policy"]).toBe('"caller";q=1;w=2;burst=5');
    expect(results[4]!.headers["X-RateLimit-Reset"]).toBe("10"); // 5 tokens × 2 s
    expect(refusal(results[5]!).retryAfterSeconds).toBe(2);
    expect((await stub.admit({ caller: "b", now: T0 + 2 * SECOND })).ok).toBe(true);
    expect((await stub.admit({ caller: "b", now: T0 + 2 * SECOND })).ok).toBe(false);
  });

  it("a clock that goes backwards grants nothing extra", async () => {
    const stub = await configured({ rateLimit: { perCaller: { requests: 2, windowSeconds: 60 } } });
    expect(admitted(await admitMany(stub, 2, () => "c", T0))).toBe(2);
    expect((await stub.admit({ caller: "c", now: T0 - 3600 * SECOND })).ok).toBe(false);
    expect((await stub.admit({ caller: "c", now: T0 + 29 * SECOND })).ok).toBe(false);
    expect((await stub.admit({ caller: "c", now: T0 + 30 * SECOND })).ok).toBe(true);
  });

  it("a refusal consumes nothing: not from the other bucket, not from the quotas", async () => {
    const stub = await configured({
      rateLimit: { perCaller: { requests: 1, windowSeconds: 3600 }, global: { requests: 5, windowSeconds: 3600 } },
      usageLimit: { dailyRequests: 1000 },
    });
    expect((await stub.admit({ caller: "greedy", now: T0 })).ok).toBe(true);
    const refused = await admitMany(stub, 20, () => "greedy", T0);
    expect(admitted(refused)).toBe(0);
    expect(refusal(refused[0]!).message).toMatch(/per-caller limit/);
    const others = await admitMany(stub, 6, (i) => `other-${i}`, T0);
    expect(admitted(others)).toBe(4); // global 5 - 1
    const dailyLeft = others.filter((x) => x.ok).map((x) => x.headers["X-Usage-Daily-Remaining"]);
    expect(dailyLeft.sort()).toEqual(["995", "996", "997", "998"]);
    const after = await stub.admit({ caller: "new", now: T0 });
    expect(refusal(after).message).toMatch(/global limit/);
    expect(after.headers["X-Usage-Daily-Remaining"]).toBe("995");
  });

  it("a quota refusal takes no token", async () => {
    const stub = await configured({ rateLimit: { perCaller: { requests: 10, windowSeconds: 3600 } }, usageLimit: { dailyRequests: 1 } });
    expect((await stub.admit({ caller: "q", now: T0 })).ok).toBe(true);
    for (let i = 0; i < 5; i++) expect(refusal(await stub.admit({ caller: "q", now: T0 })).code).toBe("quota_exceeded");
    // Lift the quota, same bucket rule (buckets untouched): 10 - 1 - this one = 8.
    await stub.configure(cfg({ version: 2, rateLimit: { perCaller: { requests: 10, windowSeconds: 3600 } } }));
    const again = await stub.admit({ caller: "q", now: T0 });
    expect(again.ok).toBe(true);
    expect(again.headers["X-RateLimit-Remaining"]).toBe("8");
  });
});

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
    expect(await stub.configure(cfg({ version: 2, rateLimit: { global: { requests: 1, windowSeconds: 3600 } } }))).toEqual({ applied: true, version: 2 });
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

function usage(overrides: Partial<UsageRecord>): UsageRecord {
  return { requestId: crypto.randomUUID(), ts: T0, caller: "c", status: 200, latencyMs: 10, outcome: "served", ...overrides };
}

describe("TenantMeter: stats", () => {
  it("aggregates calls, outcomes, unique callers and latency percentiles per window", async () => {
    const stub = await configured({ version: 4 });
    const today = Date.UTC(YEAR, 5, 10, 9, 30);
    const earlierThisMonth = Date.UTC(YEAR, 5, 2, 9, 30);
    const lastMonth = Date.UTC(YEAR, 4, 20, 9, 30);

    // Today: 20 served calls, 10 at ~3 ms and 10 at ~40 ms, and one at 700 ms; 2 errors; 3 refused.
    const records: UsageRecord[] = [];
    for (let i = 0; i < 10; i++) records.push(usage({ ts: today + i, caller: `a${i % 4}`, latencyMs: 3 }));
    for (let i = 0; i < 10; i++) records.push(usage({ ts: today + i, caller: `a${i % 4}`, latencyMs: 40, callerLabel: "agent-x" }));
    records.push(usage({ ts: today + 3_600_000, caller: "slow", latencyMs: 700 }));
    records.push(usage({ ts: today, caller: "e1", status: 502, latencyMs: 30, outcome: "tenant_error" }));
    records.push(usage({ ts: today, caller: "e2", status: 500, latencyMs: 30, outcome: "served" }));
    for (let i = 0; i < 3; i++) records.push(usage({ ts: today, caller: "limited", status: 429, latencyMs: 0, outcome: "rate_limited" }));
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
    expect(empty).toEqual({ calls: 0, served: 0, errors: 0, refused: 0, uniqueCallers: 0, p50LatencyMs: null, p95LatencyMs: null });
  });

  it("stores the caller label as data without using it for identity", async () => {
    const stub = await configured({});
    await stub.record(usage({ caller: "ip-hash-1", callerLabel: "bot-a" }));
    await stub.record(usage({ caller: "ip-hash-1", callerLabel: "bot-b" }));
    await stub.record(usage({ caller: "ip-hash-2", callerLabel: "bot-a" }));
    expect((await stub.stats(T0)).windows.today.uniqueCallers).toBe(2);
    const labels = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec<{ caller: string; label: string }>("SELECT caller, label FROM caller_days ORDER BY caller").toArray(),
    );
    expect(labels).toEqual([
      { caller: "ip-hash-1", label: "bot-a" },
      { caller: "ip-hash-2", label: "bot-a" },
    ]);
  });

  it("rejects a malformed usage record", async () => {
    const stub = await configured({});
    expect(await thrownInside(stub, (m) => m.record({ ...usage({}), outcome: "paid" as UsageRecord["outcome"] }))).toMatch(/outcome/);
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
    const stub = await configured({ rateLimit: { perCaller: { requests: 10, windowSeconds: 60 } }, usageLimit: { dailyRequests: 1000 } });
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
