// The rollup's pure half: shard exports + the D1 catalog (published APIs, creator-linked
// wallets) → the public snapshot (leaderboard entries, per-API details, directory rollups, hero
// stats) for every window. No I/O, no clock: `now` comes in, so a test can replay any moment.
//
// Merging shards: every (API, payer) and per-API sum is added across shards. An API lives on one
// shard (leaderboardShardFor), so its busiest hour is exact; only while LEADERBOARD_SHARDS is being
// changed can one API be split, and then its peak hour is the larger of the shard peaks.
//
// Who is "creator-linked" for an API: every payTo of any tenant of the same creator (deleted ones
// too: a wallet does not stop being theirs) and every wallet the creator registered. Addresses
// compare lowercase. A payer "paid only this creator" when the creators it made countable calls
// to (all time, its calls as a linked wallet not included) are exactly this API's creator.
//
// Hero and directory money is summed in atomic units of 6-decimal stablecoins (USDC); every known
// settlement asset has 6 decimals. USD strings come from atomicToUsd: a non-zero amount never
// shows as $0.00.
import { atomicToUsd } from "./shared/money.ts";
import { compareForRanking, SCORING, scoreApi, type PayerInput, type ScoreBreakdown, type ScoringConfig } from "./scoring.ts";
import { emptyHist, estimatePercentile } from "./shared/histogram.ts";
import { type ApiCounters } from "./leaderboard-events.ts";
import { WINDOWS, type WindowName } from "./windows.ts";

// ---- inputs -------------------------------------------------------------------------------

export interface PairRow {
  apiId: string;
  payer: string;
  n: number;
  fails: number;
  billed: string;
}

export interface ApiWindowRow extends ApiCounters {
  /** The part of `hist` that came from creator-linked callers. */
  linkedHist: number[];
  /** Most countable calls in one hour by callers that are not creator-linked. */
  peakHour: number;
}

export interface WindowExport {
  pairs: PairRow[];
  apis: ApiWindowRow[];
}

export interface ShardExport {
  shard: string;
  apis: { apiId: string; owner: string; directory: string }[];
  /** Each payer's first countable call (ms) on this shard. */
  firstSeen: { payer: string; ms: number }[];
  windows: Record<WindowName, WindowExport>;
}

export interface CatalogApi {
  slug: string;
  owner: string;
  directory: string;
  description: string;
  resourceType: string;
  paid: boolean;
  priceAtomic: string;
  decimals: number;
  network: string;
  payTo: string | null;
  hosts: string[];
  /** x402 PaymentRequirements this API accepts (empty when free). */
  accepts: unknown[];
  updatedAt: number;
}

export interface Catalog {
  /** Published (not deleted) APIs. */
  apis: CatalogApi[];
  /** Creator id → lowercase creator-linked addresses. */
  linkedByOwner: Map<string, Set<string>>;
  /** Every tenant slug ever created (deleted too) → creator id. */
  ownerBySlug: Map<string, string>;
}

// ---- outputs ------------------------------------------------------------------------------

export interface WindowMetrics {
  calls: number;
  revenueAtomic: string;
  revenueUsd: string;
  payers: number;
  successRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  events: number;
  errors: number;
  challenges: number;
  refusals: number;
  replays: number;
  selfDealtCalls: number;
}

export interface LeaderboardEntry {
  rank: number | null;
  status: "ranked" | "emerging";
  slug: string;
  directory: string;
  description: string;
  paid: boolean;
  price: { atomic: string; usd: string };
  network: string;
  path: string;
  score: number;
  factors: { D: number; Q: number; C: number; B: number };
  metrics: WindowMetrics;
}

export interface ApiWindowDetail {
  rank: number | null;
  status: "ranked" | "emerging";
  score: number;
  metrics: WindowMetrics;
  breakdown: ScoreBreakdown;
}

export interface ApiDetail {
  slug: string;
  directory: string;
  description: string;
  resourceType: string;
  paid: boolean;
  price: { atomic: string; usd: string; decimals: number };
  network: string;
  payTo: string | null;
  path: string;
  hosts: string[];
  accepts: unknown[];
  lastUpdated: string;
  windows: Record<WindowName, ApiWindowDetail>;
}

export interface DirectoryRollup {
  directory: string;
  apis: number;
  rankedApis: number;
  calls: number;
  revenueAtomic: string;
  revenueUsd: string;
  activePayers: number;
  topApis: string[];
}

export interface HeroStats {
  publishedApis: number;
  directories: number;
  rankedApis: number;
  emergingApis: number;
  activePayers: number;
  activeCallers: number;
  calls: number;
  revenueAtomic: string;
  revenueUsd: string;
}

export interface WindowSnapshot {
  entries: LeaderboardEntry[];
  directories: DirectoryRollup[];
  stats: HeroStats;
}

export interface Snapshot {
  windows: Record<WindowName, WindowSnapshot>;
  /** Ordered by the overall window (ranked first): discovery lists them in this order. */
  apis: ApiDetail[];
}

export const DISPLAY_DECIMALS = 6;
const TOP_APIS_PER_DIRECTORY = 3;
const SEP = "\u0000";

/** The (apiId, address) pairs the shards must treat as creator-linked, as one JSON array. */
export function linkedPairs(catalog: Catalog): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [slug, owner] of catalog.ownerBySlug) for (const address of catalog.linkedByOwner.get(owner) ?? []) pairs.push([slug, address]);
  return pairs;
}

export function sumAtomic(values: Iterable<string>): bigint {
  let total = 0n;
  for (const v of values) if (v) total += BigInt(v);
  return total;
}

/** Comma list from group_concat (or null) → exact sum as a decimal string. */
export function sumBilledList(list: string | null | undefined): string {
  return list ? sumAtomic(list.split(",")).toString() : "0";
}

function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : 0;
}

function roundBreakdown(b: ScoreBreakdown): ScoreBreakdown {
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

interface MergedWindow {
  pairsByApi: Map<string, PairRow[]>;
  apis: Map<string, ApiWindowRow>;
}

function mergeWindow(exports: readonly ShardExport[], name: WindowName): MergedWindow {
  const pairs = new Map<string, PairRow>();
  const apis = new Map<string, ApiWindowRow>();
  for (const ex of exports) {
    for (const p of ex.windows[name].pairs) {
      const key = `${p.apiId}${SEP}${p.payer}`;
      const prev = pairs.get(key);
      if (!prev) pairs.set(key, { ...p });
      else pairs.set(key, { ...prev, n: prev.n + p.n, fails: prev.fails + p.fails, billed: (BigInt(prev.billed) + BigInt(p.billed)).toString() });
    }
    for (const a of ex.windows[name].apis) {
      const prev = apis.get(a.apiId);
      if (!prev) {
        apis.set(a.apiId, { ...a, hist: [...a.hist], linkedHist: [...a.linkedHist] });
        continue;
      }
      prev.events += a.events;
      prev.countable += a.countable;
      prev.fails += a.fails;
      prev.challenges += a.challenges;
      prev.refusals += a.refusals;
      prev.replays += a.replays;
      prev.errors += a.errors;
      prev.billed = (BigInt(prev.billed) + BigInt(a.billed)).toString();
      prev.hist = prev.hist.map((v, i) => v + (a.hist[i] ?? 0));
      prev.linkedHist = prev.linkedHist.map((v, i) => v + (a.linkedHist[i] ?? 0));
      prev.peakHour = Math.max(prev.peakHour, a.peakHour);
    }
  }
  const pairsByApi = new Map<string, PairRow[]>();
  for (const p of pairs.values()) {
    const list = pairsByApi.get(p.apiId);
    if (list) list.push(p);
    else pairsByApi.set(p.apiId, [p]);
  }
  return { pairsByApi, apis };
}

export function buildSnapshot(catalog: Catalog, exports: readonly ShardExport[], now: number, cfg: ScoringConfig = SCORING): Snapshot {
  const ownerOf = new Map<string, string>();
  for (const ex of exports) for (const a of ex.apis) ownerOf.set(a.apiId, a.owner);
  for (const [slug, owner] of catalog.ownerBySlug) ownerOf.set(slug, owner); // D1 wins over events
  const isLinked = (apiId: string, payer: string): boolean => {
    const owner = ownerOf.get(apiId);
    return owner !== undefined && (catalog.linkedByOwner.get(owner)?.has(payer.toLowerCase()) ?? false);
  };

  const firstSeen = new Map<string, number>();
  for (const ex of exports) for (const { payer, ms } of ex.firstSeen) firstSeen.set(payer, Math.min(ms, firstSeen.get(payer) ?? ms));

  const merged = Object.fromEntries(WINDOWS.map((w) => [w, mergeWindow(exports, w)])) as Record<WindowName, MergedWindow>;

  // Creators each payer made countable calls to, all time (not as one of their linked wallets).
  const creatorsOf = new Map<string, Set<string>>();
  for (const [apiId, pairs] of merged.overall.pairsByApi) {
    const owner = ownerOf.get(apiId);
    if (owner === undefined) continue;
    for (const p of pairs) {
      if (p.n <= 0 || isLinked(apiId, p.payer)) continue;
      const set = creatorsOf.get(p.payer) ?? new Set<string>();
      set.add(owner);
      creatorsOf.set(p.payer, set);
    }
  }

  const details = new Map<string, Partial<Record<WindowName, ApiWindowDetail>>>();
  const windows = {} as Record<WindowName, WindowSnapshot>;
  for (const w of WINDOWS) {
    const scored = catalog.apis.map((api) => {
      const pairs = merged[w].pairsByApi.get(api.slug) ?? [];
      const row = merged[w].apis.get(api.slug);
      const payers: PayerInput[] = pairs.map((p) => {
        const creators = creatorsOf.get(p.payer);
        return {
          payer: p.payer,
          calls: p.n,
          failures: p.fails,
          linked: isLinked(api.slug, p.payer),
          singleCreator: creators !== undefined && creators.size === 1 && creators.has(api.owner),
          firstSeenMs: firstSeen.get(p.payer) ?? null,
        };
      });
      const hist = row ? row.hist.map((v, i) => Math.max(0, v - (row.linkedHist[i] ?? 0))) : emptyHist();
      const breakdown = scoreApi({ payers, windowEndMs: now, peakHourCalls: row?.peakHour ?? 0, p95Ms: estimatePercentile(hist, 0.95) }, cfg);
      const counted = payers.filter((p) => !p.linked && p.calls > 0);
      const revenue = sumAtomic(pairs.filter((p) => !isLinked(api.slug, p.payer)).map((p) => p.billed));
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
    });
    scored.sort((a, b) =>
      compareForRanking(
        { slug: a.api.slug, score: a.breakdown.score, status: a.breakdown.status, calls: a.metrics.calls },
        { slug: b.api.slug, score: b.breakdown.score, status: b.breakdown.status, calls: b.metrics.calls },
      ),
    );
    const entries: LeaderboardEntry[] = [];
    scored.forEach((s, i) => {
      const rank = s.breakdown.status === "ranked" ? i + 1 : null;
      const rounded = roundBreakdown(s.breakdown);
      entries.push({
        rank,
        status: s.breakdown.status,
        slug: s.api.slug,
        directory: s.api.directory,
        description: s.api.description,
        paid: s.api.paid,
        price: { atomic: s.api.priceAtomic, usd: atomicToUsd(s.api.priceAtomic, s.api.decimals) },
        network: s.api.network,
        path: apiPath(s.api.slug),
        score: rounded.score,
        factors: { D: rounded.D, Q: rounded.Q, C: rounded.C, B: rounded.B },
        metrics: s.metrics,
      });
      const d = details.get(s.api.slug) ?? {};
      d[w] = { rank, status: s.breakdown.status, score: rounded.score, metrics: s.metrics, breakdown: rounded };
      details.set(s.api.slug, d);
    });

    const byDirectory = new Map<string, typeof scored>();
    for (const s of scored) byDirectory.set(s.api.directory, [...(byDirectory.get(s.api.directory) ?? []), s]);
    const directories: DirectoryRollup[] = [...byDirectory.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([directory, list]) => {
        const revenue = list.reduce((t, s) => t + s.revenue, 0n);
        return {
          directory,
          apis: list.length,
          rankedApis: list.filter((s) => s.breakdown.status === "ranked").length,
          calls: list.reduce((t, s) => t + s.metrics.calls, 0),
          revenueAtomic: revenue.toString(),
          revenueUsd: atomicToUsd(revenue, DISPLAY_DECIMALS),
          activePayers: new Set(list.flatMap((s) => s.counted.map((p) => p.payer))).size,
          topApis: list.filter((s) => s.breakdown.status === "ranked").slice(0, TOP_APIS_PER_DIRECTORY).map((s) => s.api.slug),
        };
      });

    const revenue = scored.reduce((t, s) => t + s.revenue, 0n);
    const payingWallets = new Set<string>();
    for (const s of scored) for (const p of merged[w].pairsByApi.get(s.api.slug) ?? []) if (!isLinked(s.api.slug, p.payer) && p.billed !== "0" && p.n > 0) payingWallets.add(p.payer);
    windows[w] = {
      entries,
      directories,
      stats: {
        publishedApis: catalog.apis.length,
        directories: byDirectory.size,
        rankedApis: entries.filter((e) => e.status === "ranked").length,
        emergingApis: entries.filter((e) => e.status === "emerging").length,
        activePayers: payingWallets.size,
        activeCallers: new Set(scored.flatMap((s) => s.counted.map((p) => p.payer))).size,
        calls: scored.reduce((t, s) => t + s.metrics.calls, 0),
        revenueAtomic: revenue.toString(),
        revenueUsd: atomicToUsd(revenue, DISPLAY_DECIMALS),
      },
    };
  }

  const bySlug = new Map(catalog.apis.map((a) => [a.slug, a]));
  const apis: ApiDetail[] = windows.overall.entries.map((e) => {
    const api = bySlug.get(e.slug)!;
    return {
      slug: api.slug,
      directory: api.directory,
      description: api.description,
      resourceType: api.resourceType,
      paid: api.paid,
      price: { atomic: api.priceAtomic, usd: atomicToUsd(api.priceAtomic, api.decimals), decimals: api.decimals },
      network: api.network,
      payTo: api.payTo,
      path: apiPath(api.slug),
      hosts: api.hosts,
      accepts: api.accepts,
      lastUpdated: new Date(api.updatedAt).toISOString(),
      windows: details.get(api.slug) as Record<WindowName, ApiWindowDetail>,
    };
  });
  return { windows, apis };
}

function roundOrNull(x: number | null): number | null {
  return x === null ? null : round(x);
}

export function apiPath(slug: string): string {
  return `/t/${slug}/`;
}
