// leaseSize (objects/meter/lease-size.ts): how many tokens one lease grants. Examples pin the
// rule; properties check its bounds for any input, including junk from a confused holder.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LEASE_SHARE, leaseSize, MAX_LEASE_TOKENS } from "../../objects/meter/lease-size.ts";

describe("leaseSize", () => {
  it("grants nothing when less than one whole token remains", () => {
    expect(leaseSize(0, 10, 1)).toBe(0);
    expect(leaseSize(0.5, 10, 1)).toBe(0);
    expect(leaseSize(-3, 10, 1)).toBe(0);
    expect(leaseSize(Number.NaN, 10, 1)).toBe(0);
  });

  it("grants what the holder wants while that is within its share", () => {
    expect(leaseSize(1000, 10, 1)).toBe(10);
    expect(leaseSize(1000, 1, 4)).toBe(1);
  });

  it("caps a grant at the holder's share of what remains", () => {
    expect(leaseSize(1000, 5000, 1)).toBe(1000 * LEASE_SHARE);
    expect(leaseSize(1000, 5000, 4)).toBe(Math.floor((1000 * LEASE_SHARE) / 4));
  });

  it("shrinks to one token near a limit", () => {
    expect(leaseSize(3, 100, 1)).toBe(1);
    expect(leaseSize(1, 100, 8)).toBe(1);
    expect(leaseSize(1.9999999999, 100, 1)).toBe(1);
  });

  it("never grants more than MAX_LEASE_TOKENS", () => {
    expect(leaseSize(1e9, 1e9, 1)).toBe(MAX_LEASE_TOKENS);
  });

  it("treats a junk want or holder count as 1", () => {
    expect(leaseSize(100, Number.NaN, 1)).toBe(1);
    expect(leaseSize(100, -5, 1)).toBe(1);
    expect(leaseSize(100, 10, Number.NaN)).toBe(10);
    expect(leaseSize(100, 10, 0)).toBe(10);
  });
});

describe("leaseSize properties", () => {
  const remaining = fc.oneof(fc.double({ noNaN: false }), fc.integer({ min: -10, max: 1_000_000 }).map(Number));
  const count = fc.oneof(fc.double(), fc.integer({ min: -5, max: 10_000 }));
  const sizes = fc.integer({ min: 1, max: 1_000_000 });
  const wants = fc.integer({ min: 1, max: 5000 });
  const holderCounts = fc.integer({ min: 1, max: 64 });

  it("grants an integer in [0, whole tokens remaining], at most the cap", () => {
    fc.assert(
      fc.property(remaining, count, count, (r, want, holders) => {
        const n = leaseSize(r, want, holders);
        expect(Number.isInteger(n)).toBe(true);
        expect(n).toBeGreaterThanOrEqual(0);
        expect(n).toBeLessThanOrEqual(MAX_LEASE_TOKENS);
        if (n > 0) expect(n).toBeLessThanOrEqual(Math.floor(r + 1e-9));
      }),
    );
  });

  it("grants at least one token whenever one whole token remains, never more than wanted", () => {
    fc.assert(
      fc.property(sizes, wants, holderCounts, (r, want, holders) => {
        const n = leaseSize(r, want, holders);
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBeLessThanOrEqual(want);
      }),
    );
  });

  it("leaves every holder something: with h holders, h grants never exceed what remained", () => {
    fc.assert(
      fc.property(sizes, wants, holderCounts, (r, want, holders) => {
        const n = leaseSize(r, want, holders);
        // Each of `holders` holders taking its share in turn, from what it saw, stays within r.
        if (r >= 2 * holders) expect(n * holders).toBeLessThanOrEqual(r);
      }),
    );
  });

  it("does not grow when less remains (same want and holders)", () => {
    fc.assert(
      fc.property(fc.nat(100_000), fc.nat(100_000), wants, (a, b, want) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(leaseSize(lo, want, 2)).toBeLessThanOrEqual(leaseSize(hi, want, 2));
      }),
    );
  });
});
