// Response bodies of the platform API as the CLI reads them, defined once. Tenant fields come
// from the server's own TenantConfig type (src/config/tenant-config.ts, imported type-only); the
// rest mirrors the handlers named on each type (their views are not exported as types, and
// src/control imports workerd types that the Node tsconfig does not have). The node e2e tests
// run every command against the real server, so a drift shows up there.
import type { Asset, TenantConfig } from "../../src/config/tenant-config.ts";
// Leaderboard metrics of one window: the snapshot's own type, so client and server cannot drift.
import type { WindowMetrics } from "../../objects/leaderboard/snapshot-types.ts";

export type { Asset, TenantConfig };

/** src/control/tenant-rules.ts tenantView(): the stored config plus price and endpoints. */
export type TenantView = TenantConfig & {
  price: { usd: number; atomic: string; display: string; asset: Asset | null };
  endpoints: { path: string; hosts: string[] };
};

/** One window of the meter's stats (objects/ TenantMeter stats()). */
export interface MeterWindow {
  calls: number;
  served: number;
  errors: number;
  refused: number;
  uniqueCallers: number;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
}
/** Calls of a window by how they arrived (TenantMeter stats() `transports`). */
export interface TransportCalls {
  http: number;
  mcp: number;
}
export interface MeterStats {
  configVersion: number;
  windows: { today: MeterWindow; month: MeterWindow; total: MeterWindow };
  /** Absent from servers older than aggregated usage. */
  transports?: { today: TransportCalls; month: TransportCalls; total: TransportCalls };
}

/** GET /v1/tenants (src/control/tenants.ts listTenants). */
export interface TenantList {
  tenants: TenantView[];
}
/** GET /v1/tenants/:slug (getTenant). */
export interface TenantDetail {
  tenant: TenantView;
  stats: MeterStats | null;
}
/** DELETE /v1/tenants/:slug (deleteTenant). */
export interface TenantDeleted {
  slug: string;
  deleted: true;
}
/** POST /v1/tenants/:slug/deployments (src/control/deployments.ts deployTenant). */
export interface DeployResponse {
  tenant: TenantView;
  deployment: { version: number; rows?: number; bytes?: number; secretNames: string[]; [field: string]: unknown };
}

/** GET /v1/tenants/:slug/earnings (src/control/earnings.ts). */
export interface Earnings {
  slug: string;
  totals: { payments: number; amountAtomic: string; amountUsd: string };
  items: {
    paymentId: string;
    requestId: string;
    payer: string;
    payTo: string;
    amountAtomic: string;
    asset: string;
    network: string;
    transaction: string | null;
    settledAt: number;
    /** The signed offer-receipt receipt the payer got (src/receipts/), or null. */
    receipt: { format: string; payload: Record<string, unknown>; signature: string } | null;
  }[];
  nextBefore: number | null;
}

/** GET /v1/me (src/control/keys.ts whoAmI). */
export interface Me {
  creator: { id: string; name: string; email: string | null; createdAt: number };
  keyId: string;
  scopes: string[];
}
export interface ApiKeyRow {
  id: string;
  prefix: string;
  name: string;
  scopes: string[];
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
  current: boolean;
}
/** GET /v1/keys, POST /v1/keys, DELETE /v1/keys/:id (src/control/keys.ts). */
export interface KeyList {
  keys: ApiKeyRow[];
}
export interface KeyCreated {
  apiKey: { id: string; key: string; prefix: string; name: string; scopes: string[] };
}
export interface KeyRevoked {
  id: string;
  revoked: true;
  revokedAt: number;
}

/** POST /v1/tenants/:slug/publish (src/control/publish.ts). */
export interface PublishResponse {
  dryRun: boolean;
  slug: string;
  version: number;
  plan: {
    url: string;
    namespace: string;
    scriptName: string;
    metadata: { bindings: { type: string; name: string }[] };
    modules: { name: string; contentType: string; bytes: number; sha256: string }[];
  };
  result?: { id: string | null; etag: string | null };
  /** Dry run on a platform without Cloudflare settings: the plan has placeholders for these. */
  missingSettings?: string[];
}

/** GET /v1/platform (src/platform/info.ts): the defaults a deploy without --network/--asset gets. */
export interface PlatformInfo {
  service: "402claw";
  network: string;
  asset: Asset | null;
}

export interface ScoreBreakdown {
  D: number;
  Q: number;
  C: number;
  B: number;
  effectivePayers: number;
  [factor: string]: unknown;
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
  metrics: WindowMetrics;
}
/** GET /v1/leaderboard (src/public/leaderboard.ts getLeaderboard). */
export interface Leaderboard {
  window: string;
  asOf: string | null;
  items: LeaderboardEntry[];
  emerging: LeaderboardEntry[];
}
export type WindowName = "today" | "week" | "overall";
/** GET /v1/apis/:slug (getApi). */
export interface ApiWindow {
  rank: number | null;
  status: string;
  score: number;
  metrics: WindowMetrics;
  breakdown: ScoreBreakdown;
}
export interface ApiDetailBody {
  api: { slug: string; windows: Record<WindowName, ApiWindow> };
}

/** GET /v1/tenants/:slug/discovery (src/discovery/readiness-http.ts): what discovery will see. */
export interface DiscoveryCheck {
  id: "input_schema" | "output_schema" | "examples_valid" | "description" | "price" | "pay_to" | "bazaar";
  ok: boolean;
  message: string;
}
export interface DiscoveryReadiness {
  slug: string;
  version: number;
  ready: boolean;
  checks: DiscoveryCheck[];
  operations: { method: string; path: string; declared: boolean }[];
  documents: { openapi: string; wellKnown: string; markdown: string; platformOpenapi: string; hosts: string[] };
}
