// The summary statistics every bench section reports, in one place so that every figure in
// BENCHMARKS.md is computed the same way. Pure.

/** The arithmetic mean (NaN for no values). */
export const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** The nearest-rank percentile of ascending `sorted` values: the smallest value with p % at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The median of ascending `sorted` values: the mean of the middle two for an even count. */
export function median(sorted: readonly number[]): number {
  if (sorted.length === 0) return NaN;
  const middle = sorted.length / 2;
  return sorted.length % 2 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A copy of `values` in ascending order. */
export const ascending = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b);
