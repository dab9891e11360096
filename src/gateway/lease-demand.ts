// What a lease part last asked for, kept past the expiry of its leases (docs/ARCHITECTURE.md §14).
// A part whose leases all expired is forgotten by the lease cache, so a burst after a quiet
// second started again from one token and grew its lease by ~1.5× per grant: with the meter
// 20 ms away the first three or so grants ran dry while the callers waited (BENCHMARKS.md). The
// part made again within DEMAND_MEMORY_MS asks for its last demand at once. Only the demand the
// calls showed (callers waiting, tokens used) is kept, never a size that came from this memory,
// so a part whose traffic fell asks small again after one burst. Pure, bounded; no clock of its
// own (`now` comes with each call).

/** How long a part's last demand is remembered after its last grant. */
export const DEMAND_MEMORY_MS = 10_000;
/** Parts remembered per isolate; the oldest goes first. */
export const MAX_REMEMBERED = 20_000;

export class DemandMemory {
  private readonly last = new Map<string, { want: number; at: number }>();

  /** Keeps `want`, the demand a grant asked for at `now` (0 forgets it). */
  remember(key: string, want: number, now: number): void {
    this.last.delete(key);
    if (!(want > 0)) return;
    this.last.set(key, { want, at: now });
    if (this.last.size > MAX_REMEMBERED) this.last.delete(this.last.keys().next().value!);
  }

  /** The demand last kept for `key`, if within DEMAND_MEMORY_MS of `now`, else 0. */
  recall(key: string, now: number): number {
    const seen = this.last.get(key);
    if (!seen) return 0;
    if (now - seen.at > DEMAND_MEMORY_MS || now < seen.at) {
      this.last.delete(key);
      return 0;
    }
    return seen.want;
  }
}
