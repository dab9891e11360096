// The shapes the rollup passes around (docs/ARCHITECTURE.md §7), types only: what a shard
// exports for each window (shard-export.ts), what the D1 catalog says about the published APIs
// (catalog.ts), and the public snapshot the rollup builds from them (snapshot.ts) and writes to
// D1 (snapshot-store.ts) for the public read API (src/public/).
import type { ApiCounters } from "./events.ts";
import type { ScoreBreakdown } from "./scoring.ts";
import type { WindowName } from "./windows.ts";

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
