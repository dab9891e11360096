// The bench's summary statistics (bench/stats.ts): every section's p50, p99 and medians come from here.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ascending, mean, median, percentile } from "../../bench/stats.ts";

describe("bench statistics", () => {
  it("percentile is the nearest rank: the smallest value with p % of the values at or below it", () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(sorted, 50)).toBe(5);
    expect(percentile(sorted, 99)).toBe(10);
    expect(percentile(sorted, 10)).toBe(1);
    expect(percentile(sorted, 0)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it("percentile p has at least p % of the values at or below it, and fewer strictly below", () => {
    const values = fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 200 });
    fc.assert(
      fc.property(values, fc.integer({ min: 1, max: 100 }), (xs, p) => {
        const sorted = ascending(xs);
        const v = percentile(sorted, p);
        expect(sorted.filter((x) => x <= v).length).toBeGreaterThanOrEqual((p / 100) * sorted.length);
        expect(sorted.filter((x) => x < v).length).toBeLessThan((p / 100) * sorted.length);
      }),
    );
  });

  it("median takes the middle value, or the mean of the middle two", () => {
    expect(median([1, 5, 9])).toBe(5);
    expect(median([1, 2, 4, 9])).toBe(3);
    expect(median([-3])).toBe(-3);
    expect(median([])).toBeNaN();
  });

  it("mean and ascending leave their input alone", () => {
    const xs = [3, 1, 2];
    expect(ascending(xs)).toEqual([1, 2, 3]);
    expect(xs).toEqual([3, 1, 2]);
    expect(mean(xs)).toBe(2);
    expect(mean([])).toBeNaN();
  });
});
