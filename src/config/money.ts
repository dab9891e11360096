// Money is integer atomic units everywhere (USDC: 6 decimals, $0.001 = 1000). USD strings are for display only.

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
  const shown = fraction.length === 0 ? `${whole}.00` : `${whole}.${fraction.length < 2 ? fraction.padEnd(2, "0") : fraction}`;
  return `${negative ? "-" : ""}$${shown}`;
}
