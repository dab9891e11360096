// The rollup's pure half (docs/ARCHITECTURE.md §7): shard exports + the D1 catalog (published
// APIs, creator-linked wallets) → the public snapshot (leaderboard entries, per-API details,
// directory rollups, hero stats) for every window. No I/O, no clock: `now` comes in, so a test can
// replay any moment. Steps: merge the shards and resolve creator links (snapshot-merge.ts), score
// each window (snapshot-score.ts), then lay the scored APIs out as the public shapes (here).
//
// Hero and directory money is summed in atomic units of 6-decimal stablecoins (USDC); every known
// settlement asset has 6 decimals. USD strings come from atomicToUsd: a non-zero amount never
// shows as $0.00.
import { atomicToUsd } from "../shared/money.ts";
import { SCORING, type ScoringConfig } from "./scoring.ts";
import { mergeWindow, resolveLinks, type Links, type MergedWindow } from "./snapshot-merge.ts";
import { roundBreakdown, scoreWindow, type ScoredApi } from "./snapshot-score.ts";
import type {
  ApiDetail,
  ApiWindowDetail,
  Catalog,
  DirectoryRollup,
  HeroStats,
  LeaderboardEntry,
  ShardExport,
  Snapshot,
  WindowSnapshot,
} from "./snapshot-types.ts";
import { WINDOWS, type WindowName } from "./windows.ts";

export const DISPLAY_DECIMALS = 6;
const TOP_APIS_PER_DIRECTORY = 3;

type Details = Map<string, Partial<Record<WindowName, ApiWindowDetail>>>;

export function buildSnapshot(
  catalog: Catalog,
  exports: readonly ShardExport[],
  now: number,
  cfg: ScoringConfig = SCORING,
): Snapshot {
  const merged = Object.fromEntries(WINDOWS.map((w) => [w, mergeWindow(exports, w)])) as Record<
    WindowName,
    MergedWindow
  >;
  const links = resolveLinks(catalog, exports, merged.overall);
  const details: Details = new Map();
  const windows = {} as Record<WindowName, WindowSnapshot>;
  for (const w of WINDOWS) {
    const scored = scoreWindow(catalog.apis, merged[w], links, now, cfg);
    const entries = entriesOf(scored, w, details);
    const byDirectory = new Map<string, ScoredApi[]>();
    for (const s of scored) byDirectory.set(s.api.directory, [...(byDirectory.get(s.api.directory) ?? []), s]);
    windows[w] = {
      entries,
      directories: directoryRollups(byDirectory),
      stats: heroStats(catalog, scored, entries, byDirectory.size, payingWallets(scored, merged[w], links)),
    };
  }
  return { windows, apis: apiDetails(catalog, windows.overall.entries, details) };
}

/** The window's entries in ranking order; records each API's detail for this window on the way. */
function entriesOf(scored: readonly ScoredApi[], w: WindowName, details: Details): LeaderboardEntry[] {
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
  return entries;
}

function directoryRollups(byDirectory: Map<string, ScoredApi[]>): DirectoryRollup[] {
  return [...byDirectory.entries()]
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
        topApis: list
          .filter((s) => s.breakdown.status === "ranked")
          .slice(0, TOP_APIS_PER_DIRECTORY)
          .map((s) => s.api.slug),
      };
    });
}

/** Wallets that paid money (not linked, with a countable call) to any published API. */
function payingWallets(scored: readonly ScoredApi[], merged: MergedWindow, links: Links): Set<string> {
  const wallets = new Set<string>();
  for (const s of scored) {
    for (const p of merged.pairsByApi.get(s.api.slug) ?? []) {
      if (!links.isLinked(s.api.slug, p.payer) && p.billed !== "0" && p.n > 0) wallets.add(p.payer);
    }
  }
  return wallets;
}

function heroStats(
  catalog: Catalog,
  scored: readonly ScoredApi[],
  entries: readonly LeaderboardEntry[],
  directories: number,
  paying: Set<string>,
): HeroStats {
  const revenue = scored.reduce((t, s) => t + s.revenue, 0n);
  return {
    publishedApis: catalog.apis.length,
    directories,
    rankedApis: entries.filter((e) => e.status === "ranked").length,
    emergingApis: entries.filter((e) => e.status === "emerging").length,
    activePayers: paying.size,
    activeCallers: new Set(scored.flatMap((s) => s.counted.map((p) => p.payer))).size,
    calls: scored.reduce((t, s) => t + s.metrics.calls, 0),
    revenueAtomic: revenue.toString(),
    revenueUsd: atomicToUsd(revenue, DISPLAY_DECIMALS),
  };
}

/** Every published API with its detail in each window, in the overall window's order. */
function apiDetails(catalog: Catalog, overall: readonly LeaderboardEntry[], details: Details): ApiDetail[] {
  const bySlug = new Map(catalog.apis.map((a) => [a.slug, a]));
  return overall.map((e) => {
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
}

export function apiPath(slug: string): string {
  return `/t/${slug}/`;
}
