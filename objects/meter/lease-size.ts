// How many tokens one lease grants (docs/ARCHITECTURE.md §14): pure, so the rule is tested alone.
// A lease takes a share of what remains, split between the isolates that asked lately, never
// more than its holder wants (its recent demand) nor MAX_LEASE_TOKENS; near a limit the share
// falls to one token, so the last tokens go one per call, as they would without leases. Leased
// tokens are debited when granted: the size decides how much a holder may leave unused (the
// worst-case under-admission), never whether anything is over-admitted.

/** A lease lives at most this long; its unused tokens are returned or, after a crash, lost. */
export const LEASE_TTL_MS = 1000;
/** The largest grant: bounds what one holder can leave unused. */
export const MAX_LEASE_TOKENS = 1024;
/** Each recent holder may take this fraction of its even share of what remains. */
export const LEASE_SHARE = 0.5;

/**
 * Tokens to grant: 0 when less than one whole token remains, else between 1 and
 * min(want, MAX_LEASE_TOKENS, what remains), at most LEASE_SHARE of the even share per holder.
 */
export function leaseSize(remaining: number, want: number, holders: number): number {
  const whole = Math.floor(remaining + 1e-9);
  if (!(whole >= 1)) return 0;
  const asked = Number.isFinite(want) ? Math.max(1, Math.floor(want)) : 1;
  const sharers = Number.isFinite(holders) ? Math.max(1, Math.floor(holders)) : 1;
  const share = Math.floor((whole * LEASE_SHARE) / sharers);
  return Math.max(1, Math.min(asked, share, MAX_LEASE_TOKENS, whole));
}
