// The latency histogram shared by the TenantMeter's stats and the Leaderboard's aggregates: fixed
// log-scale bucket upper bounds in ms (the last bucket is open), bucketing and percentile
// estimation. Pure.

export const LATENCY_BOUNDS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] as const;
/** Number of histogram buckets: one per bound plus the open "> 10000 ms" bucket. */
export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1;

/** Index of the bucket holding `latencyMs`: bucket i holds (bound[i-1], bound[i]]. */
export function latencyBucket(latencyMs: number): number {
  if (!(latencyMs > 0)) return 0;
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) {
    if (latencyMs <= LATENCY_BOUNDS_MS[i]!) return i;
  }
  return LATENCY_BOUNDS_MS.length;
}

/**
 * Estimated `p`-quantile (0 < p ≤ 1) from bucket counts, interpolating linearly inside the
 * bucket that holds it, so the estimate is always within that bucket's bounds. The open last
 * bucket reports its lower bound (we know nothing above it). Null when there are no samples.
 */
export function estimatePercentile(counts: readonly number[], p: number): number | null {
  let total = 0;
  for (const c of counts) total += c;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] ?? 0;
    if (c === 0) continue;
    if (seen + c >= rank) {
      const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!;
      const upper = LATENCY_BOUNDS_MS[i];
      if (upper === undefined) return lower;
      return Math.round((lower + ((upper - lower) * (rank - seen)) / c) * 100) / 100;
    }
    seen += c;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
}

/** A histogram with every bucket at zero. */
export function emptyHist(): number[] {
  return new Array<number>(LATENCY_BUCKETS).fill(0);
}
