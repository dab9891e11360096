// Pure spend-cap math: bigint on decimal strings, caps as settled + reserved + amount ≤ cap,
// X-Spend-* headers that never go negative.
import { describe, expect, it } from "vitest";
import { addAtomic, atomicOrZero, isAtomic, subAtomicClamped, toAtomic } from "../../objects/shared/money.ts";
import {
  checkSpendCaps,
  describeExceeded,
  remainingAtomic,
  type SpendCheckInput,
  spendHeaders,
} from "../../objects/meter/spend-caps.ts";

const zero = { settled: "0", reserved: "0" };

function input(overrides: Partial<SpendCheckInput>): SpendCheckInput {
  return {
    caps: {},
    amount: "1000",
    daily: zero,
    monthly: zero,
    payerDaily: zero,
    dayResetSeconds: 3600,
    monthResetSeconds: 86_400,
    ...overrides,
  };
}

describe("atomic amounts", () => {
  it("accepts plain decimal integer strings only", () => {
    expect(isAtomic("0")).toBe(true);
    expect(isAtomic("1000")).toBe(true);
    expect(isAtomic("9".repeat(78))).toBe(true);
    for (const bad of ["", "-1", "1.5", "1e6", " 1", "0x10", "9".repeat(79), 1000, null])
      expect(isAtomic(bad)).toBe(false);
    expect(() => toAtomic("1.5")).toThrow(RangeError);
  });

  it("adds and subtracts beyond 2^53 exactly", () => {
    expect(addAtomic("9007199254740993", "1")).toBe("9007199254740994");
    expect(addAtomic("115792089237316195423570985008687907853269984665640564039457584007913129639935", "0")).toBe(
      "115792089237316195423570985008687907853269984665640564039457584007913129639935",
    );
    expect(subAtomicClamped("9007199254740993", "9007199254740992")).toBe("1");
  });

  it("never goes below zero, even for a replayed release or a corrupt counter", () => {
    expect(subAtomicClamped("1000", "3000")).toBe("0");
    expect(subAtomicClamped("garbage", "1")).toBe("0");
    expect(atomicOrZero(undefined)).toBe(0n);
    expect(() => subAtomicClamped("1", "x")).toThrow(RangeError);
  });
});

describe("checkSpendCaps", () => {
  it("admits while settled + reserved + amount ≤ cap, exactly at the cap too", () => {
    const caps = { daily: "10000" };
    expect(checkSpendCaps(input({ caps, daily: { settled: "4000", reserved: "5000" } })).ok).toBe(true); // 10000 ≤ 10000
    const over = checkSpendCaps(input({ caps, daily: { settled: "4000", reserved: "5001" } }));
    expect(over).toMatchObject({ ok: false, exceeded: ["daily"] });
  });

  it("checks every configured cap and reports each one exceeded", () => {
    const check = checkSpendCaps(
      input({
        caps: { daily: "100000", monthly: "5000", perPayerDaily: "1500" },
        daily: { settled: "1000", reserved: "0" },
        monthly: { settled: "4500", reserved: "0" },
        payerDaily: { settled: "0", reserved: "1000" },
      }),
    );
    expect(check.ok).toBe(false);
    expect(check.exceeded).toEqual(["monthly", "perPayerDaily"]);
    expect(check.caps.map((c) => c.name)).toEqual(["daily", "monthly", "perPayerDaily"]);
    expect(describeExceeded(check, "1000")).toBe(
      "This payment of 1000 atomic units would exceed this API's monthly spend cap of 5000 (500 left) and daily per-payer spend cap of 1500 (500 left). No payment was taken.",
    );
  });

  it("has nothing to check without caps, and ignores an invalid cap", () => {
    expect(checkSpendCaps(input({ caps: undefined }))).toEqual({ ok: true, exceeded: [], caps: [] });
    expect(checkSpendCaps(input({ caps: { daily: "lots" } })).caps).toEqual([]);
  });

  it("a zero cap refuses any non-zero amount", () => {
    expect(checkSpendCaps(input({ caps: { daily: "0" } })).ok).toBe(false);
    expect(checkSpendCaps(input({ caps: { daily: "0" }, amount: "0" })).ok).toBe(true);
  });

  it("works with amounts far beyond Number precision", () => {
    const big = "123456789012345678901234567890";
    const check = checkSpendCaps(
      input({ caps: { daily: big }, amount: "1", daily: { settled: "123456789012345678901234567889", reserved: "0" } }),
    );
    expect(check.ok).toBe(true);
    expect(spendHeaders(check.caps, 1n)["X-Spend-Daily-Remaining"]).toBe("0");
  });
});

describe("spendHeaders", () => {
  it("reports limit and remaining after this reservation, only for configured caps", () => {
    const check = checkSpendCaps(
      input({
        caps: { daily: "10000", perPayerDaily: "3000" },
        daily: { settled: "2000", reserved: "1000" },
        dayResetSeconds: 42,
      }),
    );
    expect(spendHeaders(check.caps, 1000n)).toEqual({
      "X-Spend-Daily-Limit": "10000",
      "X-Spend-Daily-Remaining": "6000",
      "X-Spend-Payer-Daily-Limit": "3000",
      "X-Spend-Payer-Daily-Remaining": "2000",
      "X-Spend-Reset": "42",
    });
    expect(spendHeaders([], 0n)).toEqual({});
  });

  it("on a refusal shows what is left before the call, never negative", () => {
    const check = checkSpendCaps(
      input({ caps: { monthly: "5000" }, monthly: { settled: "7000", reserved: "0" }, monthResetSeconds: 99 }),
    );
    expect(check.ok).toBe(false);
    expect(spendHeaders(check.caps, 0n)).toEqual({
      "X-Spend-Monthly-Limit": "5000",
      "X-Spend-Monthly-Remaining": "0",
      "X-Spend-Reset": "99",
    });
    expect(remainingAtomic(check.caps[0]!, 1000n)).toBe(0n);
  });
});
