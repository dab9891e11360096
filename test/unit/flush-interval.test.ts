// nextFlushInterval (src/gateway/flush-interval.ts): how long an isolate lets a tenant's usage
// accumulate. Examples pin the rule; properties check its bounds and direction for any input.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  HOT_CALLS_PER_FLUSH,
  MAX_FLUSH_MS,
  MIN_FLUSH_MS,
  nextFlushInterval,
  QUIET_CALLS_PER_FLUSH,
} from "../../src/gateway/flush-interval.ts";

describe("nextFlushInterval", () => {
  it("doubles while flushes are hot, up to the ceiling", () => {
    let ms = MIN_FLUSH_MS;
    const seen = [ms];
    for (let i = 0; i < 8; i++) seen.push((ms = nextFlushInterval(ms, 500)));
    expect(seen).toEqual([50, 100, 200, 400, 800, 1000, 1000, 1000, 1000]);
  });

  it("halves back to the floor when quiet, and holds in between", () => {
    expect(nextFlushInterval(1000, 0)).toBe(500);
    expect(nextFlushInterval(60, 1)).toBe(MIN_FLUSH_MS);
    expect(nextFlushInterval(400, QUIET_CALLS_PER_FLUSH + 1)).toBe(400);
    expect(nextFlushInterval(400, HOT_CALLS_PER_FLUSH - 1)).toBe(400);
  });

  it("stays within [MIN, MAX] and moves the right way for any input", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer(), fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity)),
        fc.nat(1_000_000),
        (previous, calls) => {
          const next = nextFlushInterval(previous, calls);
          expect(next).toBeGreaterThanOrEqual(MIN_FLUSH_MS);
          expect(next).toBeLessThanOrEqual(MAX_FLUSH_MS);
          const base = Number.isFinite(previous)
            ? Math.min(MAX_FLUSH_MS, Math.max(MIN_FLUSH_MS, previous))
            : MIN_FLUSH_MS;
          if (calls >= HOT_CALLS_PER_FLUSH) expect(next).toBeGreaterThanOrEqual(base);
          if (calls <= QUIET_CALLS_PER_FLUSH) expect(next).toBeLessThanOrEqual(base);
        },
      ),
    );
  });
});
