// How long an isolate lets usage accumulate before it flushes a tenant's batch (docs/ARCHITECTURE.md
// §14, §15): 50 ms when quiet, so stats lag little; doubling up to 1 s while each flush carries many
// calls, so a hot tenant costs its meter a few applyUsage RPCs per second per isolate, not one per
// call. Totals do not depend on it: batches are applied once by id whatever their size. Pure.

export const MIN_FLUSH_MS = 50;
export const MAX_FLUSH_MS = 1_000;
/** A flush with at least this many calls means the tenant is hot here: wait longer next time. */
export const HOT_CALLS_PER_FLUSH = 32;
/** A flush with at most this many calls means it is quiet: come back down. */
export const QUIET_CALLS_PER_FLUSH = 4;

/** The next interval after a flush that sent `calls` calls, having waited `previousMs`. */
export function nextFlushInterval(previousMs: number, calls: number): number {
  const known = Number.isFinite(previousMs) ? previousMs : MIN_FLUSH_MS;
  const base = Math.min(MAX_FLUSH_MS, Math.max(MIN_FLUSH_MS, known));
  if (calls >= HOT_CALLS_PER_FLUSH) return Math.min(MAX_FLUSH_MS, base * 2);
  if (calls <= QUIET_CALLS_PER_FLUSH) return Math.max(MIN_FLUSH_MS, Math.floor(base / 2));
  return base;
}
