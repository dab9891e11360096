// The call-outcome vocabulary, once (docs/ARCHITECTURE.md §7): every way a call to a tenant can
// end, and what each outcome means for the meter's stats, for ranking and for money. Every set
// the rest of the code uses (refusals, countable, billable, …) is derived from OUTCOME_TRAITS, so
// two modules can no longer disagree about, say, whether `settlement_failed` is a refusal.
//
// Two readers, two questions:
//   - the TenantMeter's stats ask "was this a call, and was it refused?" (`call`, `refusedStat`);
//   - the Leaderboard asks "what kind of evidence is this about the API?" (`rank`).
// Only the tenant's own failures (its 5xx, its crash, its timeout: `tenant_error`) rank as
// failures. Whatever the caller, the payer or the platform caused never counts against an API
// (docs/ARCHITECTURE.md §7): `settlement_failed` is the payer's funds or the facilitator failing
// after the API answered, so it ranks as a refusal; `request_rejected` (the platform refused the
// request before the tenant ran, e.g. a body over the limit) is a refusal; `platform_error` (our
// own failure on the way to the tenant) is no evidence about the API at all (`other`).

/** Every outcome, in a stable order (schemas, tables and tests iterate it). */
export const OUTCOMES = [
  "served",
  "payment_settled",
  "payment_replayed",
  "payment_challenged",
  "payment_invalid",
  "rate_limited",
  "quota_exceeded",
  "spend_cap_exceeded",
  "settlement_failed",
  "tenant_error",
  "request_rejected",
  "platform_error",
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** How a call arrived: over HTTP, or as an MCP tool call (docs/ARCHITECTURE.md §12). */
export const TRANSPORTS = ["http", "mcp"] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** How the Leaderboard reads an outcome (see objects/leaderboard/events.ts). */
export type RankKind = "countable" | "failure" | "challenge" | "refusal" | "replay" | "other";

export interface OutcomeTraits {
  /** A call in the meter's stats (challenges and unusable payments feed events only). */
  call: boolean;
  /** Counted in the meter's `refused` stat. */
  refusedStat: boolean;
  /** What the outcome is to the Leaderboard. `countable` still needs the event's flag. */
  rank: RankKind;
  /** Moves money (the only outcome whose billed amount is non-zero). */
  billable: boolean;
}

export const OUTCOME_TRAITS: Readonly<Record<Outcome, OutcomeTraits>> = {
  served: { call: true, refusedStat: false, rank: "countable", billable: false },
  payment_settled: { call: true, refusedStat: false, rank: "countable", billable: true },
  payment_replayed: { call: false, refusedStat: false, rank: "replay", billable: false },
  payment_challenged: { call: false, refusedStat: false, rank: "challenge", billable: false },
  payment_invalid: { call: false, refusedStat: false, rank: "refusal", billable: false },
  rate_limited: { call: true, refusedStat: true, rank: "refusal", billable: false },
  quota_exceeded: { call: true, refusedStat: true, rank: "refusal", billable: false },
  spend_cap_exceeded: { call: true, refusedStat: true, rank: "refusal", billable: false },
  settlement_failed: { call: true, refusedStat: true, rank: "refusal", billable: false },
  tenant_error: { call: true, refusedStat: false, rank: "failure", billable: false },
  request_rejected: { call: true, refusedStat: true, rank: "refusal", billable: false },
  platform_error: { call: true, refusedStat: false, rank: "other", billable: false },
};

const OUTCOME_SET: ReadonlySet<string> = new Set(OUTCOMES);

export function isOutcome(value: unknown): value is Outcome {
  return typeof value === "string" && OUTCOME_SET.has(value);
}

/** Outcomes for which `pick` holds, in OUTCOMES order. */
export function outcomesWhere(pick: (traits: OutcomeTraits) => boolean): Outcome[] {
  return OUTCOMES.filter((o) => pick(OUTCOME_TRAITS[o]));
}

/**
 * Whether an outcome ranks: settled paid calls, and served calls of free APIs. A served call of a
 * paid API is content handed out without payment (never happens by design) and does not rank.
 */
export function isCountable(outcome: Outcome, priceAtomic: string): boolean {
  if (outcome === "payment_settled") return true;
  return outcome === "served" && BigInt(priceAtomic) === 0n;
}
