// Pure logic of the web pages' charts and cards: hourly series, uptime, errors by code, axis
// scale, directory health and the error budget.
import { describe, expect, it } from "vitest";
import { errorsByCode, hourlySeries, uptime, type HourPoint } from "../../src/web/charts/series.ts";
import { niceMax, scaleY } from "../../src/web/charts/scale.ts";
import { budgetLeft, directoryHealth } from "../../src/web/explore/health.ts";
import type { Outcome } from "../../objects/shared/outcomes.ts";

const H = 3_600_000;
const NOW = Date.UTC(2026, 11, 1, 12, 30);
const ev = (
  hoursAgo: number,
  lifecycle: Outcome,
  caller = "0xaa",
  latencyMs = 40,
  countable = lifecycle === "payment_settled" || lifecycle === "served",
) => ({
  ts: NOW - hoursAgo * H,
  caller,
  lifecycle,
  countable,
  latencyMs,
  status:
    lifecycle === "tenant_error"
      ? 502
      : lifecycle === "rate_limited"
        ? 429
        : lifecycle === "payment_challenged"
          ? 402
          : 200,
});

describe("hourlySeries", () => {
  it("folds events into hours: organic, self-dealt (linked callers), failures, p95 of attempts", () => {
    const events = [
      ev(0, "payment_settled"),
      ev(0, "payment_settled", "0xself"),
      ev(0, "payment_challenged"),
      ev(0, "rate_limited"),
      ev(2, "payment_settled", "0xbb", 900),
      ev(2, "tenant_error", "0xbb", 3000),
      ev(30, "payment_settled"), // outside a 24 h series
    ];
    const s = hourlySeries(events, NOW, 24, (c) => c === "0xself", 1000);
    expect(s.points).toHaveLength(24);
    expect(s.points.at(-1)!.hour).toBe(Math.floor(NOW / H) * H);
    expect(s.points.at(-1)).toMatchObject({ organic: 1, selfDealt: 1, failures: 0 });
    expect(s.points.at(-3)).toMatchObject({ organic: 1, selfDealt: 0, failures: 1 });
    expect(s.points.at(-3)!.p95Ms).toBeGreaterThan(2000);
    expect(s.points.at(-2)!.p95Ms).toBeNull();
    expect(s.eventsUsed).toBe(6);
    expect(s.truncated).toBe(false);
    expect(s.oldestEventMs).toBe(NOW - 30 * H);
  });

  it("never counts a flagged challenge, and says when the read hit its limit", () => {
    const s = hourlySeries([ev(0, "payment_challenged", "0xaa", 1, true)], NOW, 3, () => false, 1);
    expect(s.points.at(-1)).toMatchObject({ organic: 0, selfDealt: 0, failures: 0, p95Ms: null });
    expect(s.truncated).toBe(true);
  });
});

describe("uptime", () => {
  const p = (organic: number, failures: number, selfDealt = 0): HourPoint => ({
    hour: 0,
    organic,
    selfDealt,
    failures,
    p95Ms: null,
  });
  it("is the share of tried hours that served at least one call", () => {
    expect(uptime([p(0, 0), p(3, 1), p(0, 2), p(0, 0, 1)])).toBeCloseTo(2 / 3);
    expect(uptime([p(0, 0)])).toBeNull();
    expect(uptime([p(1, 0)])).toBe(1);
  });
});

describe("errorsByCode", () => {
  it("groups failures and refusals by outcome and status, most first; skips calls and challenges", () => {
    const events = [
      ev(0, "tenant_error"),
      ev(0, "rate_limited"),
      ev(0, "rate_limited"),
      ev(0, "payment_settled"),
      ev(0, "payment_challenged"),
      ev(0, "served"),
    ];
    expect(errorsByCode(events)).toEqual([
      { code: "rate_limited", status: 429, count: 2 },
      { code: "tenant_error", status: 502, count: 1 },
    ]);
  });
});

describe("chart scale", () => {
  it("rounds axis maxima up to 1, 2, 2.5 or 5 × 10^k and clamps heights", () => {
    expect([0, 1, 3, 16, 21, 240, 999].map(niceMax)).toEqual([1, 1, 5, 20, 25, 250, 1000]);
    expect(scaleY(5, 10, 100)).toBe(50);
    expect(scaleY(20, 10, 100)).toBe(100);
    expect(scaleY(-1, 10, 100)).toBe(0);
    expect(scaleY(1, 0, 100)).toBe(0);
  });
});

describe("directory health", () => {
  it("sums attempts per directory and spends a 1 % error budget", () => {
    expect(budgetLeft(0, 0)).toBeNull();
    expect(budgetLeft(1000, 0)).toBe(1);
    expect(budgetLeft(1000, 5)).toBeCloseTo(0.5);
    expect(budgetLeft(1000, 50)).toBe(0);
    const rows = [
      { slug: "a", directory: "geo", attempts: 600, successes: 597, effectivePayers: 1, weightedPayers: 1 },
      { slug: "b", directory: "geo", attempts: 400, successes: 400, effectivePayers: 1, weightedPayers: 1 },
      { slug: "c", directory: "fx", attempts: 0, successes: 0, effectivePayers: 0, weightedPayers: 0 },
    ];
    const h = directoryHealth(rows);
    expect(h.get("geo")).toEqual({
      attempts: 1000,
      failures: 3,
      successRate: 0.997,
      budgetLeft: expect.closeTo(0.7, 9),
    });
    expect(h.get("fx")).toEqual({ attempts: 0, failures: 0, successRate: null, budgetLeft: null });
  });
});
