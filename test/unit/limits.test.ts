// Pure limit math: token buckets, UTC calendar windows, header formats, latency percentiles.
import { describe, expect, it } from "vitest";
import {
  type BucketState,
  fullAtMs,
  fullBucket,
  meterHeaders,
  mostRestrictiveBucket,
  refill,
  remainingTokens,
  secondsUntilFull,
  secondsUntilToken,
  tryTake,
} from "../../objects/meter/limits.ts";
import {
  estimatePercentile,
  latencyBucket,
  LATENCY_BOUNDS_MS,
  LATENCY_BUCKETS,
} from "../../objects/shared/histogram.ts";
import {
  nextUtcDayStartMs,
  nextUtcMonthStartMs,
  secondsUntilNextUtcDay,
  secondsUntilNextUtcMonth,
  utcDayKey,
  utcHour,
  utcMonthKey,
  utcMonthLengthSeconds,
  utcMonthStartMs,
} from "../../objects/shared/time.ts";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const perMinute100 = { requests: 100, windowSeconds: 60 };

function drain(state: BucketState, rule: typeof perMinute100, now: number, n: number): BucketState {
  let s = state;
  for (let i = 0; i < n; i++) {
    const r = tryTake(s, rule, now);
    expect(r.ok).toBe(true);
    s = r.state;
  }
  return s;
}

describe("token bucket", () => {
  it("starts full at capacity = requests, and capacity = burst when given", () => {
    expect(fullBucket(perMinute100, T0)).toEqual({ tokens: 100, updatedMs: T0 });
    expect(fullBucket({ requests: 10, windowSeconds: 1, burst: 50 }, T0).tokens).toBe(50);
    expect(fullBucket({ requests: 10, windowSeconds: 1, burst: 2 }, T0).tokens).toBe(2);
  });

  it("takes exactly capacity tokens at one instant, then refuses without consuming", () => {
    const s = drain(fullBucket(perMinute100, T0), perMinute100, T0, 100);
    expect(remainingTokens(s)).toBe(0);
    const refused = tryTake(s, perMinute100, T0);
    expect(refused.ok).toBe(false);
    expect(refused.state.tokens).toBe(s.tokens);
  });

  it("refills requests/windowSeconds tokens per second, fractionally", () => {
    const empty = drain(fullBucket(perMinute100, T0), perMinute100, T0, 100);
    // 100 per 60 s = 1 token per 600 ms.
    expect(refill(empty, perMinute100, T0 + 300).tokens).toBeCloseTo(0.5, 9);
    expect(tryTake(empty, perMinute100, T0 + 599).ok).toBe(false);
    expect(tryTake(empty, perMinute100, T0 + 600).ok).toBe(true);
    expect(refill(empty, perMinute100, T0 + 6_000).tokens).toBeCloseTo(10, 9);
    // A second one per 600 ms: two fractional halves make one token.
    const half = refill(empty, perMinute100, T0 + 300);
    expect(tryTake(half, perMinute100, T0 + 600).ok).toBe(true);
  });

  it("treats accumulated float error as a whole token (0.1 ten times is 0.9999999999999999)", () => {
    const rule = { requests: 1, windowSeconds: 10 };
    let s: BucketState = { tokens: 0, updatedMs: T0 };
    for (let i = 1; i <= 10; i++) s = refill(s, rule, T0 + i * 1000);
    expect(s.tokens).toBeLessThan(1);
    expect(remainingTokens(s)).toBe(1);
    expect(tryTake(s, rule, T0 + 10_000).ok).toBe(true);
  });

  it("never exceeds capacity however long it idles", () => {
    const s = drain(fullBucket(perMinute100, T0), perMinute100, T0, 30);
    expect(refill(s, perMinute100, T0 + 365 * 86_400_000).tokens).toBe(100);
    const burst = { requests: 1, windowSeconds: 1, burst: 5 };
    expect(refill({ tokens: 0, updatedMs: T0 }, burst, T0 + 1e9).tokens).toBe(5);
  });

  it("allows a burst up to `burst`, then the sustained rate", () => {
    const rule = { requests: 1, windowSeconds: 1, burst: 5 };
    const s = drain(fullBucket(rule, T0), rule, T0, 5);
    expect(tryTake(s, rule, T0).ok).toBe(false);
    expect(tryTake(s, rule, T0 + 1000).ok).toBe(true);
  });

  it("credits nothing when the clock goes backwards and never goes negative", () => {
    const s = drain(fullBucket(perMinute100, T0), perMinute100, T0, 100);
    const back = refill(s, perMinute100, T0 - 60_000);
    expect(back.tokens).toBe(0);
    expect(back.updatedMs).toBe(T0); // keeps the later stamp: the interval is not credited twice
    expect(tryTake(s, perMinute100, T0 - 60_000).ok).toBe(false);
    // Once the clock recovers, only real elapsed time since T0 counts.
    expect(refill(back, perMinute100, T0 + 600).tokens).toBeCloseTo(1, 9);
  });

  it("clamps corrupt or out-of-range states into [0, capacity]", () => {
    expect(refill({ tokens: -5, updatedMs: T0 }, perMinute100, T0).tokens).toBe(0);
    expect(refill({ tokens: 500, updatedMs: T0 }, perMinute100, T0).tokens).toBe(100);
    expect(refill({ tokens: Number.NaN, updatedMs: T0 }, perMinute100, T0).tokens).toBe(0);
    expect(refill({ tokens: 500, updatedMs: T0 }, perMinute100, T0 - 1000).tokens).toBe(100);
  });

  it("computes Retry-After as whole seconds until the next token, at least 1", () => {
    const empty = { tokens: 0, updatedMs: T0 };
    expect(secondsUntilToken(empty, perMinute100)).toBe(1); // 0.6 s → 1
    expect(secondsUntilToken(empty, { requests: 1, windowSeconds: 60 })).toBe(60);
    expect(secondsUntilToken({ tokens: 0.5, updatedMs: T0 }, { requests: 1, windowSeconds: 60 })).toBe(30);
    expect(secondsUntilToken({ tokens: 0.1, updatedMs: T0 }, { requests: 1, windowSeconds: 10 })).toBe(9);
    expect(secondsUntilToken(empty, { requests: 1000, windowSeconds: 1 })).toBe(1);
    const refused = tryTake(empty, { requests: 10, windowSeconds: 3600 }, T0);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.retryAfterSeconds).toBe(360);
  });

  it("computes reset as whole seconds until full, 0 when full", () => {
    expect(secondsUntilFull(fullBucket(perMinute100, T0), perMinute100)).toBe(0);
    expect(secondsUntilFull({ tokens: 99, updatedMs: T0 }, perMinute100)).toBe(1); // 0.6 s
    expect(secondsUntilFull({ tokens: 0, updatedMs: T0 }, perMinute100)).toBe(60);
    expect(secondsUntilFull({ tokens: 58, updatedMs: T0 }, perMinute100)).toBe(26); // 42 × 0.6 = 25.2
    const burst = { requests: 10, windowSeconds: 60, burst: 30 };
    expect(secondsUntilFull({ tokens: 0, updatedMs: T0 }, burst)).toBe(180);
    expect(fullAtMs({ tokens: 0, updatedMs: T0 }, burst)).toBe(T0 + 180_000);
    expect(fullAtMs({ tokens: 30, updatedMs: T0 }, burst)).toBe(T0);
  });
});

describe("UTC calendar windows", () => {
  it("keys days and months in UTC", () => {
    expect(utcDayKey(T0)).toBe("2026-11-23");
    expect(utcMonthKey(T0)).toBe("2026-11");
    expect(utcDayKey(Date.UTC(2026, 10, 23, 23, 59, 59, 999))).toBe("2026-11-23");
    expect(utcDayKey(Date.UTC(2026, 10, 24))).toBe("2026-11-24");
  });

  it("rolls Dec 31 into Jan 1 of the next year", () => {
    const lastMs = Date.UTC(2026, 11, 31, 23, 59, 59, 999);
    expect(utcDayKey(lastMs)).toBe("2026-12-31");
    expect(utcMonthKey(lastMs)).toBe("2026-12");
    expect(nextUtcDayStartMs(lastMs)).toBe(Date.UTC(2027, 0, 1));
    expect(nextUtcMonthStartMs(lastMs)).toBe(Date.UTC(2027, 0, 1));
    expect(utcDayKey(lastMs + 1)).toBe("2027-01-01");
    expect(utcMonthKey(lastMs + 1)).toBe("2027-01");
    expect(secondsUntilNextUtcDay(lastMs)).toBe(1);
    expect(secondsUntilNextUtcMonth(Date.UTC(2026, 11, 31, 0, 0, 0))).toBe(86_400);
  });

  it("handles February in common and leap years", () => {
    expect(utcDayKey(Date.UTC(2027, 1, 28) + 86_400_000)).toBe("2027-03-01");
    expect(utcDayKey(Date.UTC(2028, 1, 28) + 86_400_000)).toBe("2028-02-29");
    expect(nextUtcMonthStartMs(Date.UTC(2028, 1, 29, 12))).toBe(Date.UTC(2028, 2, 1));
    expect(utcMonthLengthSeconds(Date.UTC(2027, 1, 10))).toBe(28 * 86_400);
    expect(utcMonthLengthSeconds(Date.UTC(2028, 1, 10))).toBe(29 * 86_400);
    expect(utcMonthLengthSeconds(Date.UTC(2026, 11, 10))).toBe(31 * 86_400);
    expect(utcMonthStartMs(Date.UTC(2028, 1, 29, 23))).toBe(Date.UTC(2028, 1, 1));
  });

  it("counts seconds to the next window, at least 1, exactly a day at midnight", () => {
    expect(secondsUntilNextUtcDay(Date.UTC(2026, 10, 23))).toBe(86_400);
    expect(secondsUntilNextUtcDay(Date.UTC(2026, 10, 23, 23, 59, 59, 1))).toBe(1);
    expect(secondsUntilNextUtcDay(Date.UTC(2026, 10, 23, 23, 0, 0))).toBe(3600);
    expect(secondsUntilNextUtcMonth(Date.UTC(2026, 10, 30, 12))).toBe(12 * 3600);
    expect(utcHour(Date.UTC(1970, 0, 1, 5, 59))).toBe(5);
  });
});

describe("headers", () => {
  const callerRule = { requests: 100, windowSeconds: 60 };
  const globalRule = { requests: 10_000, windowSeconds: 3600 };

  it("formats the IETF draft fields, one item per active policy", () => {
    const h = meterHeaders({
      buckets: [
        { name: "caller", rule: callerRule, state: { tokens: 42.7, updatedMs: T0 } },
        { name: "global", rule: globalRule, state: { tokens: 9_000, updatedMs: T0 } },
      ],
    });
    expect(h["RateLimit-Policy"]).toBe('"caller";q=100;w=60, "global";q=10000;w=3600');
    // caller: 57.3 missing × 0.6 s = 34.38 → 35; global: 1000 × 0.36 s = 360
    expect(h["RateLimit"]).toBe('"caller";r=42;t=35, "global";r=9000;t=360');
    expect(h["X-RateLimit-Limit"]).toBe("100");
    expect(h["X-RateLimit-Remaining"]).toBe("42");
    expect(h["X-RateLimit-Reset"]).toBe("35");
    expect(h["Retry-After"]).toBeUndefined();
    expect(Object.keys(h).some((k) => k.startsWith("X-Usage"))).toBe(false);
  });

  it("adds burst as an extension parameter and reports capacity as the limit", () => {
    const rule = { requests: 10, windowSeconds: 1, burst: 50 };
    const h = meterHeaders({ buckets: [{ name: "global", rule, state: { tokens: 49, updatedMs: T0 } }] });
    expect(h["RateLimit-Policy"]).toBe('"global";q=10;w=1;burst=50');
    expect(h["X-RateLimit-Limit"]).toBe("50");
    expect(h["X-RateLimit-Remaining"]).toBe("49");
    expect(h["X-RateLimit-Reset"]).toBe("1");
  });

  it("picks the bucket with the lowest remaining for X-RateLimit-*", () => {
    const caller = { name: "caller" as const, rule: callerRule, state: { tokens: 99, updatedMs: T0 } };
    const global = { name: "global" as const, rule: globalRule, state: { tokens: 7, updatedMs: T0 } };
    expect(mostRestrictiveBucket([caller, global])).toBe(global);
    const h = meterHeaders({ buckets: [caller, global] });
    expect(h["X-RateLimit-Limit"]).toBe("10000");
    expect(h["X-RateLimit-Remaining"]).toBe("7");
    // Ties go to the bucket that takes longer to refill.
    const a = { name: "caller" as const, rule: callerRule, state: { tokens: 0, updatedMs: T0 } };
    const b = { name: "global" as const, rule: globalRule, state: { tokens: 0, updatedMs: T0 } };
    expect(mostRestrictiveBucket([a, b])).toBe(b);
  });

  it("formats quotas, X-Usage-* and the soonest reset", () => {
    const h = meterHeaders({
      buckets: [],
      daily: { name: "daily", limit: 1000, used: 999, windowSeconds: 86_400, resetSeconds: 3600 },
      monthly: { name: "monthly", limit: 20_000, used: 25_000, windowSeconds: 30 * 86_400, resetSeconds: 500_000 },
      retryAfterSeconds: 3600,
    });
    expect(h["RateLimit-Policy"]).toBe('"daily";q=1000;w=86400, "monthly";q=20000;w=2592000');
    expect(h["RateLimit"]).toBe('"daily";r=1;t=3600, "monthly";r=0;t=500000');
    expect(h["X-Usage-Daily-Limit"]).toBe("1000");
    expect(h["X-Usage-Daily-Remaining"]).toBe("1");
    expect(h["X-Usage-Monthly-Limit"]).toBe("20000");
    expect(h["X-Usage-Monthly-Remaining"]).toBe("0"); // never negative
    expect(h["X-Usage-Reset"]).toBe("3600");
    expect(h["Retry-After"]).toBe("3600");
    expect(h["X-RateLimit-Limit"]).toBeUndefined();
  });

  it("emits no headers when nothing is limited, and Retry-After is at least 1", () => {
    expect(meterHeaders({ buckets: [] })).toEqual({});
    expect(meterHeaders({ buckets: [], retryAfterSeconds: 0.2 })["Retry-After"]).toBe("1");
  });
});

describe("latency histogram", () => {
  it("places latencies in (previous bound, bound] buckets", () => {
    expect(LATENCY_BUCKETS).toBe(LATENCY_BOUNDS_MS.length + 1);
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(-3)).toBe(0);
    expect(latencyBucket(1)).toBe(0);
    expect(latencyBucket(1.5)).toBe(1);
    expect(latencyBucket(5)).toBe(2);
    expect(latencyBucket(7)).toBe(3);
    expect(latencyBucket(10_000)).toBe(12);
    expect(latencyBucket(10_001)).toBe(13);
  });

  it("estimates percentiles inside the bucket that holds them", () => {
    expect(estimatePercentile(new Array(LATENCY_BUCKETS).fill(0), 0.5)).toBeNull();
    const counts = new Array<number>(LATENCY_BUCKETS).fill(0);
    for (const ms of [3, 4, 4, 5, 30, 40, 45, 60, 80, 700]) counts[latencyBucket(ms)]! += 1;
    const p50 = estimatePercentile(counts, 0.5)!; // 5th of 10 = 30 ms, in (20, 50]
    expect(p50).toBeGreaterThan(20);
    expect(p50).toBeLessThanOrEqual(50);
    const p95 = estimatePercentile(counts, 0.95)!; // 10th = 700 ms, in (500, 1000]
    expect(p95).toBeGreaterThan(500);
    expect(p95).toBeLessThanOrEqual(1000);
    const slow = new Array<number>(LATENCY_BUCKETS).fill(0);
    slow[LATENCY_BUCKETS - 1] = 3;
    expect(estimatePercentile(slow, 0.5)).toBe(10_000);
  });
});
