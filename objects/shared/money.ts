// Money, once for the whole system (docs/ARCHITECTURE.md §4): integer atomic units as decimal
// strings, computed with bigint only (never a float), and the USD conversions for prices (in) and
// display (out). USDC has 6 decimals: $0.001 = 1000. USD strings are for display only.

/** A non-negative integer in decimal, at most 78 digits (uint256 fits). No sign, no exponent. */
export const ATOMIC_PATTERN = /^\d{1,78}$/;

export function isAtomic(value: unknown): value is string {
  return typeof value === "string" && ATOMIC_PATTERN.test(value);
}

/** Parses an atomic amount; throws RangeError on anything but a plain decimal integer string. */
export function toAtomic(value: string): bigint {
  if (!isAtomic(value)) throw new RangeError(`invalid atomic amount: ${JSON.stringify(value)}`);
  return BigInt(value);
}

/**
 * Lenient read of a stored counter: a missing or corrupt value counts as 0 rather than throwing
 * in the middle of an admit. Values written by the meter are always valid.
 */
export function atomicOrZero(value: unknown): bigint {
  return isAtomic(value) ? BigInt(value) : 0n;
}

export function addAtomic(a: string, b: string): string {
  return (toAtomic(a) + toAtomic(b)).toString();
}

/** a − b, clamped at 0: a counter never goes negative, even if a release is replayed. */
export function subAtomicClamped(a: string, b: string): string {
  const d = atomicOrZero(a) - toAtomic(b);
  return (d > 0n ? d : 0n).toString();
}

/** `priceUsd` → atomic units as a bigint, exact for any price written with ≤ `decimals` decimals. */
export function usdToAtomic(usd: number, decimals: number): bigint {
  if (!Number.isFinite(usd) || usd < 0) throw new RangeError(`invalid USD amount: ${usd}`);
  // toFixed(20) avoids exponent notation (1e-7); then cut at `decimals` without float arithmetic.
  const [whole = "0", fraction = ""] = usd.toFixed(20).split(".");
  const padded = (fraction + "0".repeat(decimals)).slice(0, decimals);
  const rounded = roundHalfUp(whole + padded, fraction.slice(decimals, decimals + 1));
  return BigInt(rounded);
}

function roundHalfUp(digits: string, nextDigit: string): string {
  const value = BigInt(digits || "0");
  return String(nextDigit >= "5" ? value + 1n : value);
}

/** Atomic units → a USD display string that never shows a non-zero amount as 0. */
export function atomicToUsd(atomic: bigint | string | number, decimals: number): string {
  const value = BigInt(atomic);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const base = 10n ** BigInt(decimals);
  const whole = abs / base;
  const fraction = (abs % base).toString().padStart(decimals, "0").replace(/0+$/, "");
  const shown =
    fraction.length === 0 ? `${whole}.00` : `${whole}.${fraction.length < 2 ? fraction.padEnd(2, "0") : fraction}`;
  return `${negative ? "-" : ""}$${shown}`;
}
