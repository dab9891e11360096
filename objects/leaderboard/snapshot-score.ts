// The rollup's scoring step (docs/ARCHITECTURE.md §7): one merged window + the creator links →
// every published API scored (scoring.ts) with its public metrics, in ranking order. Pure.
//
// Creator-linked callers are taken out of everything shown: their calls, revenue, payers and
// latency (their part of the histogram is subtracted); they appear only as `selfDealtCalls`.
// Published numbers are rounded to 6 significant digits so a snapshot is stable byte for byte.
import { atomicToUsd } from "../shared/money.ts";
import { emptyHist, estimatePercentile } from "../shared/histogram.ts";
import { compareForRanking, scoreApi, type PayerInput, type ScoreBreakdown, type ScoringConfig } from "./scoring.ts";
import { sumAtomic, type Links, type MergedWindow } from "./snapshot-merge.ts";
import type { CatalogApi, PairRow, WindowMetrics } from "./snapshot-types.ts";

/** One API scored in one window. */
export interface ScoredApi {
  api: CatalogApi;
  breakdown: ScoreBreakdown;
  metrics: WindowMetrics;
  /** Payers that count (not linked, at least one countable call). */
  counted: PayerInput[];
  /** Revenue from callers that are not creator-linked, atomic units. */
  revenue: bigint;
}

/** Every API of `apis` scored over `merged`, sorted in ranking order. */
export function scoreWindow(
  apis: readonly CatalogApi[],
  merged: MergedWindow,
  links: Links,
  now: number,
  cfg: ScoringConfig,
): ScoredApi[] {
  const scored = apis.map((api) => scoreOne(api, merged, links, now, cfg));
  scored.sort((a, b) =>
    compareForRanking(
      { slug: a.api.slug, score: a.breakdown.score, status: a.breakdown.status, calls: a.metrics.calls },
      { slug: b.api.slug, score: b.breakdown.score, status: b.breakdown.status, calls: b.metrics.calls },
    ),
  );
  return scored;
}

function scoreOne(api: CatalogApi, merged: MergedWindow, links: Links, now: number, cfg: ScoringConfig): ScoredApi {
  const pairs = merged.pairsByApi.get(api.slug) ?? [];
  const row = merged.apis.get(api.slug);
  const payers = payerInputs(api, pairs, links);
  const hist = row ? row.hist.map((v, i) => Math.max(0, v - (row.linkedHist[i] ?? 0))) : emptyHist();
  const p95Ms = estimatePercentile(hist, 0.95);
  const breakdown = scoreApi({ payers, windowEndMs: now, peakHourCalls: row?.peakHour ?? 0, p95Ms }, cfg);
  const counted = payers.filter((p) => !p.linked && p.calls > 0);
  const revenue = sumAtomic(pairs.filter((p) => !links.isLinked(api.slug, p.payer)).map((p) => p.billed));
  const metrics: WindowMetrics = {
    calls: breakdown.successes,
    revenueAtomic: revenue.toString(),
    revenueUsd: atomicToUsd(revenue, api.decimals),
    payers: counted.length,
    successRate: breakdown.attempts > 0 ? round(breakdown.successes / breakdown.attempts) : null,
    p50Ms: roundOrNull(estimatePercentile(hist, 0.5)),
    p95Ms: roundOrNull(breakdown.p95Ms),
    events: row?.events ?? 0,
    errors: row?.errors ?? 0,
    challenges: row?.challenges ?? 0,
    refusals: row?.refusals ?? 0,
    replays: row?.replays ?? 0,
    selfDealtCalls: breakdown.linkedCalls,
  };
  return { api, breakdown, metrics, counted, revenue };
}

function payerInputs(api: CatalogApi, pairs: readonly PairRow[], links: Links): PayerInput[] {
  return pairs.map((p) => {
    const creators = links.creatorsOf.get(p.payer);
    return {
      payer: p.payer,
      calls: p.n,
      failures: p.fails,
      linked: links.isLinked(api.slug, p.payer),
      singleCreator: creators !== undefined && creators.size === 1 && creators.has(api.owner),
      firstSeenMs: links.firstSeen.get(p.payer) ?? null,
    };
  });
}

export function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : 0;
}

function roundOrNull(x: number | null): number | null {
  return x === null ? null : round(x);
}

export function roundBreakdown(b: ScoreBreakdown): ScoreBreakdown {
  return {
    ...b,
    score: round(b.score),
    D: round(b.D),
    Q: round(b.Q),
    C: round(b.C),
    B: round(b.B),
    wilson: round(b.wilson),
    latencyFactor: round(b.latencyFactor),
    p95Ms: b.p95Ms === null ? null : round(b.p95Ms),
    topPayerShare: round(b.topPayerShare),
    peakHourShare: round(b.peakHourShare),
    effectivePayers: round(b.effectivePayers),
    weightedPayers: round(b.weightedPayers),
  };
}
