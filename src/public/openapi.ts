// GET /openapi.json: OpenAPI 3.1 description of the public leaderboard and discovery API (and
// the creator wallet and operator endpoints that feed it). Schemas are closed
// (additionalProperties: false) so a test can check real responses against them field by field:
// a field added to a response without documenting it fails that test.
import type { IRequest } from "itty-router";
import type { PlatformContext } from "../control/context.ts";
import { WINDOWS } from "../../objects/leaderboard/windows.ts";
import { CORS_HEADERS } from "./http.ts";
import { TOP_MAX } from "./leaderboard.ts";
import { DISCOVERY_MAX_LIMIT } from "./discovery.ts";

type Schema = Record<string, unknown>;
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str: Schema = { type: "string" };
const int: Schema = { type: "integer", minimum: 0 };
const num: Schema = { type: "number" };
const nullable = (type: string): Schema => ({ type: [type, "null"] });
const atomic: Schema = {
  type: "string",
  pattern: "^[0-9]+$",
  description: "Integer amount in the asset's atomic units (USDC: 6 decimals).",
};
const usd: Schema = {
  type: "string",
  pattern: "^\\$[0-9]+\\.[0-9]{2,}$",
  description: "Display string; a non-zero amount never shows as $0.00.",
};
const obj = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({
  type: "object",
  additionalProperties: false,
  required: Object.keys(properties),
  properties,
  ...extra,
});
const windowEnum: Schema = { type: "string", enum: [...WINDOWS] };
const isoOrNull: Schema = {
  type: ["string", "null"],
  format: "date-time",
  description: "When the snapshot was computed (null before the first rollup).",
};

const schemas: Record<string, Schema> = {
  Error: obj({
    error: {
      type: "object",
      required: ["code", "message"],
      additionalProperties: false,
      properties: { code: str, message: str, details: {} },
    },
    requestId: str,
  }),
  Metrics: obj(
    {
      calls: {
        ...int,
        description: "Countable calls (settled paid calls, served free calls) by callers not linked to the creator.",
      },
      revenueAtomic: atomic,
      revenueUsd: usd,
      payers: { ...int, description: "Distinct callers with countable calls, creator-linked wallets excluded." },
      successRate: { type: ["number", "null"], description: "successes / attempts (null without attempts)." },
      p50Ms: nullable("number"),
      p95Ms: nullable("number"),
      events: { ...int, description: "Every ingested event (challenges, refusals and replays included)." },
      errors: { ...int, description: "Events with status ≥ 500." },
      challenges: {
        ...int,
        description: "Challenged requests: 402s without payment, once per (hour, caller, method + path + query).",
      },
      refusals: { ...int, description: "Invalid payments, rate limits, quotas, spend caps." },
      replays: { ...int, description: "Stored responses replayed for an already settled payment." },
      selfDealtCalls: { ...int, description: "Countable calls by creator-linked wallets: shown, never scored." },
    },
    { description: "Per-window metrics. Only countable calls by callers not linked to the creator rank." },
  ),
  Factors: obj({ D: num, Q: num, C: num, B: num }),
  Breakdown: obj(
    {
      score: num,
      status: { type: "string", enum: ["ranked", "emerging"] },
      D: { ...num, description: "Σ_payers w_p · log2(1 + n_p)." },
      Q: { ...num, description: "wilson · latencyFactor." },
      C: { ...num, description: "1 − 0.5 · clamp((topPayerShare − 0.5)/0.5, 0, 1)." },
      B: { ...num, description: "1 − 0.5 · clamp((peakHourShare − 0.25)/0.75, 0, 1)." },
      wilson: { ...num, description: "Wilson lower bound (z = 1.96) of successes / attempts." },
      latencyFactor: { ...num, description: "clamp(1 − (p95Ms − 1000)/8000, 0.5, 1); 1 without latency data." },
      p95Ms: nullable("number"),
      successes: int,
      attempts: { ...int, description: "successes + tenant errors + failed settlements." },
      topPayerShare: num,
      peakHourShare: num,
      effectivePayers: { ...num, description: "1 / HHI of the payers' call shares." },
      weightedPayers: { ...num, description: "Σ w_p; ranked from minWeightedPayers on." },
      minWeightedPayers: num,
      payers: obj({ counted: int, linked: int, singleCreator: int, new: int }),
      linkedCalls: int,
    },
    {
      description:
        "Score = D · Q · C · B. w_p = 0 for creator-linked wallets, × 0.5 for payers that only ever paid this creator, × 0.5 for payers first seen < 24 h before the window end.",
    },
  ),
  Entry: obj({
    rank: { type: ["integer", "null"], minimum: 1, description: "Global rank in the window; null when emerging." },
    status: { type: "string", enum: ["ranked", "emerging"] },
    slug: str,
    directory: str,
    description: str,
    paid: { type: "boolean" },
    price: obj({ atomic, usd }),
    network: str,
    path: str,
    url: { type: "string", format: "uri" },
    detailsUrl: { type: "string", format: "uri" },
    score: num,
    factors: ref("Factors"),
    metrics: ref("Metrics"),
  }),
  Leaderboard: obj({
    window: windowEnum,
    asOf: isoOrNull,
    version: int,
    filters: obj({ directory: nullable("string"), q: nullable("string") }),
    top: int,
    items: { type: "array", items: ref("Entry"), description: "Ranked APIs, best first (at most `top`)." },
    emerging: { type: "array", items: ref("Entry"), description: "APIs below the ranking threshold (at most `top`)." },
    totals: obj({ ranked: int, emerging: int }),
  }),
  PaymentRequirements: {
    type: "object",
    required: ["scheme", "network", "asset", "amount", "payTo", "maxTimeoutSeconds"],
    properties: {
      scheme: str,
      network: str,
      asset: str,
      amount: atomic,
      payTo: str,
      maxTimeoutSeconds: int,
      extra: { type: "object" },
    },
  },
  ApiWindow: obj({
    rank: { type: ["integer", "null"] },
    status: { type: "string", enum: ["ranked", "emerging"] },
    score: num,
    metrics: ref("Metrics"),
    breakdown: ref("Breakdown"),
  }),
  ApiDetail: obj({
    asOf: isoOrNull,
    version: int,
    api: obj({
      slug: str,
      directory: str,
      description: str,
      resourceType: str,
      paid: { type: "boolean" },
      price: obj({ atomic, usd, decimals: int }),
      network: str,
      payTo: nullable("string"),
      path: str,
      hosts: { type: "array", items: str },
      accepts: { type: "array", items: ref("PaymentRequirements") },
      lastUpdated: { type: "string", format: "date-time" },
      windows: obj(Object.fromEntries(WINDOWS.map((w) => [w, ref("ApiWindow")]))),
      call: obj({
        url: { type: "string", format: "uri" },
        hosts: { type: "array", items: str },
        payment: { type: "string", enum: ["x402", "none"] },
        price: obj({ atomic, usd, decimals: int }),
        instructions: str,
      }),
    }),
  }),
  Directory: obj({
    directory: str,
    apis: int,
    rankedApis: int,
    calls: int,
    revenueAtomic: atomic,
    revenueUsd: usd,
    activePayers: int,
    topApis: { type: "array", items: str },
  }),
  Directories: obj({
    window: windowEnum,
    asOf: isoOrNull,
    version: int,
    items: { type: "array", items: ref("Directory") },
  }),
  HeroStats: obj({
    publishedApis: int,
    directories: int,
    rankedApis: int,
    emergingApis: int,
    activePayers: { ...int, description: "Distinct wallets (not creator-linked) that paid in the window." },
    activeCallers: {
      ...int,
      description: "Distinct callers (wallets or hashed IPs of free calls) with countable calls.",
    },
    calls: int,
    revenueAtomic: atomic,
    revenueUsd: usd,
  }),
  Stats: obj({
    asOf: isoOrNull,
    version: int,
    windows: obj(Object.fromEntries(WINDOWS.map((w) => [w, ref("HeroStats")]))),
  }),
  DiscoveryItem: obj({
    resource: { type: "string", format: "uri" },
    type: { type: "string", const: "http" },
    x402Version: { type: "integer", const: 2 },
    accepts: { type: "array", items: ref("PaymentRequirements") },
    lastUpdated: { type: "string", format: "date-time" },
    description: str,
    mimeType: str,
    serviceName: str,
    tags: { type: "array", items: str },
    metadata: obj({
      slug: str,
      directory: str,
      rank: { type: ["integer", "null"] },
      status: str,
      score: num,
      details: { type: "string", format: "uri" },
    }),
    extensions: {
      type: "object",
      description: "`bazaar`: the x402 discovery listing of the API's first operation (as in its 402).",
    },
  }),
  Discovery: obj({
    x402Version: { type: "integer", const: 2 },
    items: { type: "array", items: ref("DiscoveryItem") },
    pagination: obj({ limit: int, offset: int, total: int }),
  }),
  Wallet: obj({ address: { type: "string", pattern: "^0x[0-9a-f]{40}$" }, createdAt: int }),
  RollupResult: obj({
    version: int,
    changed: { type: "boolean" },
    asOf: { type: "string", format: "date-time" },
    durationMs: int,
    apis: int,
    shards: int,
  }),
};

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ref("Error") } },
});
const cached = (schema: string, description: string) => ({
  "200": {
    description,
    headers: {
      ETag: { schema: str, description: "Changes with the snapshot version and the query." },
      "Cache-Control": { schema: str, description: "public, max-age = the rollup period in seconds." },
      "Access-Control-Allow-Origin": { schema: { type: "string", const: "*" } },
    },
    content: { "application/json": { schema: ref(schema) } },
  },
  "304": { description: "Not modified (If-None-Match matched the ETag)." },
  "400": errorResponse(
    "Bad query parameter: `invalid_parameter` (window, top, q, limit, offset, type) or `unknown_directory`.",
  ),
});
const query = (name: string, schema: Schema, description: string) => ({
  name,
  in: "query",
  required: false,
  schema,
  description,
});
const windowParam = query(
  "window",
  { ...windowEnum, default: "week" },
  "today = the UTC day so far; week = the last 168 hours; overall = everything.",
);
const bearer = [{ bearer: [] }];

export const OPENAPI = {
  openapi: "3.1.0",
  info: {
    title: "402claw public API",
    version: "1.0.0",
    description:
      "Trending leaderboard and x402 discovery of 402claw APIs. Reads come from snapshots computed every rollup period; " +
      "responses carry ETag and Cache-Control and allow any origin. Errors use one envelope: {error: {code, message}, requestId}.",
  },
  servers: [{ url: "/" }],
  components: {
    schemas,
    securitySchemes: {
      bearer: { type: "http", scheme: "bearer", description: "Creator API key (claw_sk_…) or operator token." },
    },
  },
  paths: {
    "/v1/leaderboard": {
      get: {
        summary: "Ranked and emerging APIs of a window",
        parameters: [
          windowParam,
          query(
            "top",
            { type: "integer", minimum: 1, maximum: TOP_MAX, default: 20 },
            "How many ranked (and emerging) entries.",
          ),
          query(
            "directory",
            { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,39}$" },
            "Only this directory (see /v1/directories).",
          ),
          query("q", { type: "string", maxLength: 100 }, "Case-insensitive text in slug, directory or description."),
        ],
        responses: cached("Leaderboard", "Leaderboard"),
      },
    },
    "/v1/apis/{slug}": {
      get: {
        summary: "One API: metrics and full score breakdown per window, and how to call it",
        parameters: [{ name: "slug", in: "path", required: true, schema: str }],
        responses: { ...cached("ApiDetail", "API details"), "404": errorResponse("`api_not_found`") },
      },
    },
    "/v1/directories": {
      get: { summary: "Directory rollups", parameters: [windowParam], responses: cached("Directories", "Directories") },
    },
    "/v1/stats": { get: { summary: "Hero stats for every window", responses: cached("Stats", "Stats") } },
    "/discovery/resources": {
      get: {
        summary: "Paid APIs in the x402 Bazaar list shape",
        parameters: [
          query("type", { type: "string" }, "Protocol type; only `http` matches."),
          query("limit", { type: "integer", minimum: 1, maximum: DISCOVERY_MAX_LIMIT, default: 20 }, "Page size."),
          query("offset", { type: "integer", minimum: 0, default: 0 }, "Items to skip."),
        ],
        responses: cached("Discovery", "Discovery list"),
      },
    },
    "/openapi.json": { get: { summary: "This document", responses: { "200": { description: "OpenAPI 3.1" } } } },
    "/v1/wallets": {
      get: {
        summary: "Your creator-linked wallets (tenants:read)",
        security: bearer,
        responses: {
          "200": {
            description: "Wallets",
            content: { "application/json": { schema: obj({ wallets: { type: "array", items: ref("Wallet") } }) } },
          },
          "401": errorResponse("unauthorized"),
        },
      },
      post: {
        summary: "Register a wallet as yours (tenants:write): its calls to your APIs weigh zero",
        security: bearer,
        requestBody: {
          required: true,
          content: {
            "application/json": { schema: obj({ address: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" } }) },
          },
        },
        responses: {
          "201": {
            description: "Registered",
            content: { "application/json": { schema: obj({ wallet: ref("Wallet") }) } },
          },
          "200": {
            description: "Already registered",
            content: { "application/json": { schema: obj({ wallet: ref("Wallet") }) } },
          },
          "400": errorResponse("invalid_request"),
          "409": errorResponse("too_many_wallets"),
        },
      },
    },
    "/v1/wallets/{address}": {
      delete: {
        summary: "Unregister a wallet (tenants:write)",
        security: bearer,
        parameters: [{ name: "address", in: "path", required: true, schema: str }],
        responses: { "200": { description: "Deleted" }, "404": errorResponse("wallet_not_found") },
      },
    },
    "/__platform/rollup": {
      post: {
        summary: "Force a rollup now (operator)",
        security: bearer,
        responses: {
          "200": { description: "Rollup result", content: { "application/json": { schema: ref("RollupResult") } } },
        },
      },
    },
    "/__platform/events": {
      get: {
        summary: "Newest ingested usage events (operator)",
        security: bearer,
        parameters: [
          query("api", str, "Only this API's events."),
          query("limit", { type: "integer", minimum: 1, maximum: 1000, default: 100 }, "How many."),
        ],
        responses: { "200": { description: "Events and per-shard ingest counters" } },
      },
    },
  },
} as const;

const OPENAPI_TEXT = JSON.stringify(OPENAPI);

export function getOpenApi(_request: IRequest, _pc: PlatformContext): Response {
  return new Response(OPENAPI_TEXT, {
    headers: {
      ...CORS_HEADERS,
      "content-type": "application/json; charset=utf-8",
      "cache-control": "public, max-age=3600",
    },
  });
}
