// The documentation table of the platform's own routes (docs/ARCHITECTURE.md §8): one row per
// method + path of src/platform/router.ts that /openapi.json describes, naming the query spec
// the handler parses with (query.ts) and the schema its body matches (schemas.ts). openapi.ts
// generates the document from it; test/worker/route-docs.test.ts checks it against the router.
// The discovery documents' routes (/.well-known/x402, /llms.txt, …) are in src/discovery/routes-doc.ts.
import type { ComponentName } from "./schemas.ts";
import { DIRECTORIES_QUERY, DISCOVERY_QUERY, EVENTS_QUERY, LEADERBOARD_QUERY, type QuerySpec } from "./query.ts";

export interface RouteDoc {
  readonly method: "get" | "post" | "delete";
  /** OpenAPI form ({slug}); the router's form is /:slug. */
  readonly path: string;
  readonly summary: string;
  readonly auth: "none" | "bearer";
  readonly query?: QuerySpec;
  readonly pathParams?: readonly string[];
  readonly body?: ComponentName;
  /** The success status, its description and body schema (none: not described in detail). */
  readonly ok: { readonly status?: number; readonly description: string; readonly schema?: ComponentName };
  /** Snapshot reads: ETag / 304 / Cache-Control / CORS, and 400 for a bad query parameter. */
  readonly cached?: boolean;
  /** Further responses: status → description (each with the error envelope). */
  readonly errors?: Readonly<Record<string, string>>;
  readonly extra?: Readonly<Record<string, { description: string; schema?: ComponentName }>>;
}

export const ROUTE_DOCS: readonly RouteDoc[] = [
  { method: "get", path: "/health", summary: "Liveness", auth: "none", ok: { description: "OK", schema: "Health" } },
  {
    method: "get",
    path: "/v1/leaderboard",
    summary: "Ranked and emerging APIs of a window",
    auth: "none",
    query: LEADERBOARD_QUERY,
    ok: { description: "Leaderboard", schema: "Leaderboard" },
    cached: true,
  },
  {
    method: "get",
    path: "/v1/apis/{slug}",
    summary: "One API: metrics and full score breakdown per window, and how to call it",
    auth: "none",
    pathParams: ["slug"],
    ok: { description: "API details", schema: "ApiDetail" },
    cached: true,
    errors: { "404": "`api_not_found`" },
  },
  {
    method: "get",
    path: "/v1/directories",
    summary: "Directory rollups",
    auth: "none",
    query: DIRECTORIES_QUERY,
    ok: { description: "Directories", schema: "Directories" },
    cached: true,
  },
  {
    method: "get",
    path: "/v1/stats",
    summary: "Hero stats for every window",
    auth: "none",
    ok: { description: "Stats", schema: "Stats" },
    cached: true,
  },
  {
    method: "get",
    path: "/discovery/resources",
    summary: "Paid APIs in the x402 Bazaar list shape",
    auth: "none",
    query: DISCOVERY_QUERY,
    ok: { description: "Discovery list", schema: "Discovery" },
    cached: true,
  },
  { method: "get", path: "/openapi.json", summary: "This document", auth: "none", ok: { description: "OpenAPI 3.1" } },
  {
    method: "get",
    path: "/v1/platform",
    summary: "The payment defaults of this deployment (network and asset that settle here)",
    auth: "none",
    ok: { description: "Platform defaults", schema: "PlatformInfo" },
    errors: { "503": "`platform_misconfigured`" },
  },
  {
    method: "get",
    path: "/v1/wallets",
    summary: "Your creator-linked wallets (tenants:read)",
    auth: "bearer",
    ok: { description: "Wallets", schema: "WalletList" },
    errors: { "401": "unauthorized" },
  },
  {
    method: "post",
    path: "/v1/wallets",
    summary: "Register a wallet as yours (tenants:write): its calls to your APIs weigh zero",
    auth: "bearer",
    body: "WalletInput",
    ok: { status: 201, description: "Registered", schema: "WalletResult" },
    extra: { "200": { description: "Already registered", schema: "WalletResult" } },
    errors: { "400": "invalid_request", "409": "too_many_wallets" },
  },
  {
    method: "delete",
    path: "/v1/wallets/{address}",
    summary: "Unregister a wallet (tenants:write)",
    auth: "bearer",
    pathParams: ["address"],
    ok: { description: "Deleted", schema: "WalletDeleted" },
    errors: { "400": "invalid_address", "404": "wallet_not_found" },
  },
  {
    method: "post",
    path: "/__platform/rollup",
    summary: "Force a rollup now (operator)",
    auth: "bearer",
    ok: { description: "Rollup result", schema: "RollupResult" },
  },
  {
    method: "get",
    path: "/__platform/events",
    summary: "Newest raw call events (operator)",
    auth: "bearer",
    query: EVENTS_QUERY,
    ok: { description: "Raw call events (Analytics Engine or the local sink, per `source`) and ingest counters" },
  },
];
