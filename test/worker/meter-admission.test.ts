// TenantMeter admission inside workerd with real Durable Objects: tenant state, exact admission
// under concurrency (docs/ARCHITECTURE.md §9.1), refill, burst and refusals that consume nothing.
import { describe, expect, it } from "vitest";
import {
  YEAR,
  T0,
  SECOND,
  freshMeter,
  cfg,
  configured,
  admitMany,
  thrownInside,
  admitted,
  refusal,
} from "./meter-helpers.ts";

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
    expect(
      await thrownInside(stub, (m) =>
        m.configure(cfg({ version: 5, rateLimit: { global: { requests: 0, windowSeconds: 60 } } })),
      ),
    ).toMatch(/^TypeError: invalid MeterConfig at rateLimit\.global\.requests/);
    expect(await thrownInside(stub, (m) => m.configure({ ...cfg({ version: 6 }), priceAtomic: "0.5" }))).toMatch(
      /priceAtomic/,
    );
    const r = await stub.admit({ caller: "c", now: T0 });
    expect(r.configVersion).toBe(1);
    expect(r.ok).toBe(true);
    expect((await stub.admit({ caller: "c", now: T0 })).ok).toBe(false);
  });
});

describe("TenantMeter: never over-admits under concurrency (ARCHITECTURE §9.1)", () => {
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
    const stub = await configured({
      rateLimit: { perCaller: { requests: 100, windowSeconds: 60 }, global: { requests: 10_000, windowSeconds: 60 } },
    });
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
    const stub = await configured({
      rateLimit: { perCaller: { requests: 20, windowSeconds: 60 }, global: { requests: 150, windowSeconds: 60 } },
    });
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
    const stub = await configured({
      rateLimit: { perCaller: { requests: 10, windowSeconds: 3600 } },
      usageLimit: { dailyRequests: 1 },
    });
    expect((await stub.admit({ caller: "q", now: T0 })).ok).toBe(true);
    for (let i = 0; i < 5; i++) expect(refusal(await stub.admit({ caller: "q", now: T0 })).code).toBe("quota_exceeded");
    // Lift the quota, same bucket rule (buckets untouched): 10 - 1 - this one = 8.
    await stub.configure(cfg({ version: 2, rateLimit: { perCaller: { requests: 10, windowSeconds: 3600 } } }));
    const again = await stub.admit({ caller: "q", now: T0 });
    expect(again.ok).toBe(true);
    expect(again.headers["X-RateLimit-Remaining"]).toBe("8");
  });
});
