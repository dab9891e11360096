import { describe, expect, it } from "vitest";
import { atomicToUsd, usdToAtomic } from "../../objects/shared/money.ts";

describe("usdToAtomic", () => {
  it("is exact for prices with up to `decimals` decimals", () => {
    expect(usdToAtomic(0.001, 6)).toBe(1000n);
    expect(usdToAtomic(0.1, 6)).toBe(100000n);
    expect(usdToAtomic(1.23, 6)).toBe(1230000n);
    expect(usdToAtomic(0, 6)).toBe(0n);
    expect(usdToAtomic(0.000001, 6)).toBe(1n);
    expect(usdToAtomic(123456.789012, 6)).toBe(123456789012n);
  });
  it("rounds half up below the last decimal and handles exponent notation", () => {
    expect(usdToAtomic(1e-7, 6)).toBe(0n);
    expect(usdToAtomic(5e-7, 6)).toBe(1n);
  });
  it("refuses negative and non-finite amounts", () => {
    expect(() => usdToAtomic(-1, 6)).toThrow(RangeError);
    expect(() => usdToAtomic(Number.NaN, 6)).toThrow(RangeError);
  });
});

describe("atomicToUsd", () => {
  it("never shows a non-zero amount as zero", () => {
    expect(atomicToUsd(1n, 6)).toBe("$0.000001");
    expect(atomicToUsd(3000n, 6)).toBe("$0.003");
    expect(atomicToUsd(0n, 6)).toBe("$0.00");
    expect(atomicToUsd(1_500_000n, 6)).toBe("$1.50");
    expect(atomicToUsd("12345678", 6)).toBe("$12.345678");
  });
});
