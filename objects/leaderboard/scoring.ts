// The trending score (docs/ARCHITECTURE.md §7): Score = D · Q · C · B, every factor published per
// API so a creator can see why it ranks where it does. Pure: no I/O, no clock; all constants live
// in SCORING so the formula can be tuned in one place and the tests pin it.
//
//   D  demand      Σ_payers w_p · log2(1 + n_p): many payers beat many calls from a few. The log
//                  makes the 1,000,000th call of one wallet worth almost nothing.
//      w_p = 0 for creator-linked wallets (the API's payTo, any payTo of the same creator, wallets
//      the creator registered), × singleCreator (0.5) for payers that never paid another creator
//      (cheap sybils pay only their sponsor), × newPayer (0.5) for payers first seen less than
//      24 h before the window end (fresh wallets are free to make); both multiply.
//   Q  quality     WilsonLowerBound(successes, attempts, z) · clamp(1 − (p95 − 1000)/8000, 0.5, 1).
//                  The lower bound makes 4/4 worth less than 990/1000: small samples prove little.
//   C  concentration 1 − 0.5 · clamp((topPayerShare − 0.5)/0.5, 0, 1): one payer buying most of
//                  the calls halves the score at worst.
//   B  burst       1 − 0.5 · clamp((peakHourShare − 0.25)/0.75, 0, 1): traffic packed into one
//                  hour (a wash-trading script, a single campaign) halves it at worst.
//
// Definitions (all over the window, creator-linked callers excluded everywhere except `linked*`):
//   n_p          countable calls of payer p: settled paid calls and served calls of free APIs.
//   successes    Σ n_p.
//   attempts     successes + the payer's calls that reached the tenant or the facilitator and
//                failed there: tenant_error and settlement_failed. Challenges, refusals (rate
//                limit, quota, spend cap, invalid payment) and replays are neither: the API
//                did not get a chance to serve them, or already did.
//   p95Ms        95th percentile latency of the attempts (null: no latency data → factor 1).
//   topPayerShare  max n_p / successes.   peakHourShare  max calls in one hour / successes.
//   effectivePayers = 1 / HHI, HHI = Σ (n_p / successes)²: "as if this many equal payers".
// An API is ranked when weightedPayers = Σ w_p (payers with n_p > 0) ≥ minWeightedPayers and
// its score is > 0; otherwise it is listed as emerging.

export interface ScoringConfig {
  /** Wilson interval z (1.96 = 95 %). */
  z: number;
  /** Σ w_p an API needs before it is ranked. */
  minWeightedPayers: number;
  weights: {
    linked: number;
    singleCreator: number;
    newPayer: number;
    /** A payer first seen less than this before the window end is new. */
    newPayerAgeMs: number;
  };
  latency: { thresholdMs: number; spanMs: number; floor: number };
  concentration: { threshold: number; span: number; maxPenalty: number };
  burst: { threshold: number; span: number; maxPenalty: number };
}

export const SCORING: ScoringConfig = {
  z: 1.96,
  minWeightedPayers: 3,
  weights: { linked: 0, singleCreator: 0.5, newPayer: 0.5, newPayerAgeMs: 24 * 3_600_000 },
  latency: { thresholdMs: 1000, spanMs: 8000, floor: 0.5 },
  concentration: { threshold: 0.5, span: 0.5, maxPenalty: 0.5 },
  burst: { threshold: 0.25, span: 0.75, maxPenalty: 0.5 },
};

export function clamp(x: number, lo: number, hi: number): number {
  if (!(x > lo)) return lo; // NaN lands on the low side
  return x > hi ? hi : x;
}

/** Lower bound of the Wilson score interval; 0 when there were no attempts. */
export function wilsonLowerBound(successes: number, attempts: number, z = SCORING.z): number {
  if (!(attempts > 0)) return 0;
  const n = attempts;
  const p = clamp(successes / n, 0, 1);
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const margin = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return clamp((centre - margin) / (1 + z2 / n), 0, 1);
}

export function latencyFactor(p95Ms: number | null, cfg: ScoringConfig = SCORING): number {
  if (p95Ms === null) return 1;
  const { thresholdMs, spanMs, floor } = cfg.latency;
  return clamp(1 - (p95Ms - thresholdMs) / spanMs, floor, 1);
}

function penalty(share: number, rule: { threshold: number; span: number; maxPenalty: number }): number {
  return 1 - rule.maxPenalty * clamp((share - rule.threshold) / rule.span, 0, 1);
}

export function concentrationFactor(topPayerShare: number, cfg: ScoringConfig = SCORING): number {
  return penalty(topPayerShare, cfg.concentration);
}

export function burstFactor(peakHourShare: number, cfg: ScoringConfig = SCORING): number {
  return penalty(peakHourShare, cfg.burst);
}

export interface PayerFacts {
  linked: boolean;
  singleCreator: boolean;
  /** First countable call anywhere on the platform, ms; null if never. */
  firstSeenMs: number | null;
}

export function isNewPayer(firstSeenMs: number | null, windowEndMs: number, cfg: ScoringConfig = SCORING): boolean {
  return firstSeenMs !== null && windowEndMs - firstSeenMs < cfg.weights.newPayerAgeMs;
}

export function payerWeight(p: PayerFacts, windowEndMs: number, cfg: ScoringConfig = SCORING): number {
  if (p.linked) return cfg.weights.linked;
  let w = 1;
  if (p.singleCreator) w *= cfg.weights.singleCreator;
  if (isNewPayer(p.firstSeenMs, windowEndMs, cfg)) w *= cfg.weights.newPayer;
  return w;
}

export interface PayerInput extends PayerFacts {
  payer: string;
  /** Countable calls in the window. */
  calls: number;
  /** tenant_error + settlement_failed in the window. */
  failures: number;
}

export interface ScoreInput {
  payers: readonly PayerInput[];
  windowEndMs: number;
  /** Most countable calls by non-linked callers in one hour of the window. */
  peakHourCalls: number;
  /** 95th percentile latency of non-linked attempts, or null. */
  p95Ms: number | null;
}

export interface ScoreBreakdown {
  score: number;
  status: "ranked" | "emerging";
  D: number;
  Q: number;
  C: number;
  B: number;
  wilson: number;
  latencyFactor: number;
  p95Ms: number | null;
  successes: number;
  attempts: number;
  topPayerShare: number;
  peakHourShare: number;
  effectivePayers: number;
  weightedPayers: number;
  minWeightedPayers: number;
  payers: { counted: number; linked: number; singleCreator: number; new: number };
  /** Countable calls by creator-linked wallets: shown, never scored. */
  linkedCalls: number;
}

export function scoreApi(input: ScoreInput, cfg: ScoringConfig = SCORING): ScoreBreakdown {
  let D = 0;
  let weightedPayers = 0;
  let successes = 0;
  let failures = 0;
  let top = 0;
  let linkedCalls = 0;
  const counts = { counted: 0, linked: 0, singleCreator: 0, new: 0 };
  // Sorted so floating sums do not depend on the order shards returned rows in.
  const payers = [...input.payers].sort((a, b) => (a.payer < b.payer ? -1 : a.payer > b.payer ? 1 : 0));
  for (const p of payers) {
    if (p.linked) {
      linkedCalls += p.calls;
      if (p.calls > 0) counts.linked += 1;
      continue;
    }
    successes += p.calls;
    failures += p.failures;
    if (p.calls <= 0) continue;
    const w = payerWeight(p, input.windowEndMs, cfg);
    D += w * Math.log2(1 + p.calls);
    weightedPayers += w;
    top = Math.max(top, p.calls);
    counts.counted += 1;
    if (p.singleCreator) counts.singleCreator += 1;
    if (isNewPayer(p.firstSeenMs, input.windowEndMs, cfg)) counts.new += 1;
  }
  let hhi = 0;
  if (successes > 0) for (const p of payers) if (!p.linked && p.calls > 0) hhi += (p.calls / successes) ** 2;

  const attempts = successes + failures;
  const wilson = wilsonLowerBound(successes, attempts, cfg.z);
  const lf = latencyFactor(input.p95Ms, cfg);
  const Q = wilson * lf;
  const topPayerShare = successes > 0 ? top / successes : 0;
  const peakHourShare = successes > 0 ? clamp(input.peakHourCalls / successes, 0, 1) : 0;
  const C = concentrationFactor(topPayerShare, cfg);
  const B = burstFactor(peakHourShare, cfg);
  const score = D * Q * C * B;
  const ranked = weightedPayers >= cfg.minWeightedPayers && score > 0;
  return {
    score,
    status: ranked ? "ranked" : "emerging",
    D,
    Q,
    C,
    B,
    wilson,
    latencyFactor: lf,
    p95Ms: input.p95Ms,
    successes,
    attempts,
    topPayerShare,
    peakHourShare,
    effectivePayers: hhi > 0 ? 1 / hhi : 0,
    weightedPayers,
    minWeightedPayers: cfg.minWeightedPayers,
    payers: counts,
    linkedCalls,
  };
}

/** Ranked first (score desc, then slug for a stable order), then emerging (score, calls, slug). */
export function compareForRanking(
  a: { slug: string; score: number; status: "ranked" | "emerging"; calls: number },
  b: { slug: string; score: number; status: "ranked" | "emerging"; calls: number },
): number {
  if (a.status !== b.status) return a.status === "ranked" ? -1 : 1;
  if (a.score !== b.score) return b.score - a.score;
  if (a.calls !== b.calls) return b.calls - a.calls;
  return a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0;
}
