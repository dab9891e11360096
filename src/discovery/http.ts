// HTTP handlers of the discovery documents (docs/ARCHITECTURE.md §11). Thin: read D1, call the pure
// builders, cache the text per isolate under a key that changes with the catalog (or tenant)
// version, and answer with ETag / 304 and CORS. The routes:
//   platform: GET /openapi.json, /.well-known/x402, /llms.txt, /v1/apis/:slug.md (or Accept: text/markdown)
//   tenant (path mode /t/:slug/… and its own hosts): GET /openapi.json, /.well-known/x402; these two
//   paths are served by the platform ahead of the tenant's code (src/index.ts), so what agents read
//   is always exactly what the 402 asks for.
import type { IRequest } from "itty-router";
import type { PlatformContext } from "../control/context.ts";
import type { TenantConfig } from "../config/tenant-config.ts";
import { ApiError } from "../http/errors.ts";
import { CORS_HEADERS } from "../public/http.ts";
import { OPENAPI } from "../public/openapi.ts";
import { readLeaderboard, sha256Hex } from "../../objects/leaderboard/snapshot-store.ts";
import { loadTenantBySlug } from "../tenancy/tenant-store.ts";
import { slugProblem } from "../config/slug.ts";
import { describeTenant } from "./describe.ts";
import type { ApiDescription } from "./description-types.ts";
import { catalogVersion, creatorName, liveTenants } from "./catalog-store.ts";
import { apiOpenApi } from "./openapi.ts";
import { paidResources, platformOpenApi, wellKnownX402 } from "./platform-docs.ts";
import { DISCOVERY_ROUTES } from "./routes-doc.ts";
import { apiMarkdown, llmsTxt } from "./markdown.ts";
import { wellKnownReceiptField } from "../receipts/document.ts";
import { deploymentKeys, type PublishedKey } from "../receipts/signer.ts";

const JSON_TYPE = "application/json; charset=utf-8";
const cache = new Map<string, { etag: string; text: string }>();
const CACHE_MAX = 256;

/** Serves `build()`'s text under `key`, rebuilt only when the key is new; ETag and 304. */
async function cached(
  request: Request,
  key: string,
  type: string,
  maxAge: number,
  build: () => Promise<string>,
): Promise<Response> {
  let hit = cache.get(key);
  if (!hit) {
    const text = await build();
    hit = { text, etag: `"${(await sha256Hex(`${key}\n${text}`)).slice(0, 32)}"` };
    cache.set(key, hit);
    if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value!);
  }
  const headers = {
    ...CORS_HEADERS,
    etag: hit.etag,
    "cache-control": `public, max-age=${maxAge}`,
    "content-type": type,
  };
  const inm = request.headers.get("if-none-match");
  if (inm && inm.split(",").some((t) => t.trim().replace(/^W\//, "") === hit.etag))
    return new Response(null, { status: 304, headers });
  return new Response(request.method === "HEAD" ? null : hit.text, { status: 200, headers });
}

/**
 * All live tenants' descriptions, memoised per catalog version (one build per change). The value
 * is kept, not the build in progress: a promise of one request awaited by another fails once the
 * first one ends (see src/public/snapshot-meta.ts).
 */
let catalog: { version: string; descriptions: ApiDescription[] } | null = null;
async function descriptions(db: D1Database, version: string): Promise<ApiDescription[]> {
  if (catalog?.version === version) return catalog.descriptions;
  const rows = await liveTenants(db);
  const built = rows.map((t) => describeTenant(t.config, t.creatorName ? { name: t.creatorName } : undefined));
  catalog = { version, descriptions: built };
  return built;
}

export async function getPlatformOpenApi(request: IRequest, pc: PlatformContext): Promise<Response> {
  const origin = new URL(request.url).origin;
  const version = await catalogVersion(pc.env.DB);
  return cached(request, `openapi|${origin}|${version}`, JSON_TYPE, 60, async () => {
    const base = { ...OPENAPI, paths: { ...OPENAPI.paths, ...DISCOVERY_ROUTES } };
    return JSON.stringify(platformOpenApi(base, await descriptions(pc.env.DB, version), origin));
  });
}

export async function getPlatformWellKnown(request: IRequest, pc: PlatformContext): Promise<Response> {
  const origin = new URL(request.url).origin;
  const version = await catalogVersion(pc.env.DB);
  const keys = deploymentKeys(pc.config.receipts);
  return cached(request, `well-known|${origin}|${version}|${keysTag(keys)}`, JSON_TYPE, 60, async () => {
    const all = await descriptions(pc.env.DB, version);
    const doc = wellKnownX402(all.flatMap((d) => paidResources(d, `${origin}/t/${d.slug}`)));
    return JSON.stringify({ ...doc, ...wellKnownReceiptField(keys, origin) });
  });
}

/** The receipt keys a well-known document lists are part of its cache key. */
const keysTag = (keys: readonly PublishedKey[]): string => keys.map((k) => k.address).join(",");

export async function getLlmsTxt(request: IRequest, pc: PlatformContext): Promise<Response> {
  const origin = new URL(request.url).origin;
  const board = await readLeaderboard(pc.env.DB, { window: "overall", top: 20, directory: null, q: null });
  const top = [...board.ranked, ...board.emerging]
    .slice(0, 20)
    .map((e) => ({ slug: e.slug, description: e.description, priceUsd: e.price.usd }));
  return cached(request, `llms|${origin}|${board.meta?.version ?? 0}`, "text/plain; charset=utf-8", 300, async () =>
    llmsTxt(origin, top),
  );
}

export function wantsMarkdown(request: Request): boolean {
  return (
    new URL(request.url).pathname.endsWith(".md") || /\btext\/markdown\b/i.test(request.headers.get("accept") ?? "")
  );
}

async function describedWithContact(db: D1Database, config: TenantConfig): Promise<ApiDescription> {
  const name = await creatorName(db, config.owner);
  return describeTenant(config, name ? { name } : undefined);
}

/** GET /v1/apis/:slug.md (or /v1/apis/:slug with Accept: text/markdown). */
export async function getApiMarkdown(request: IRequest, pc: PlatformContext): Promise<Response> {
  const slug = String(request.params?.slug ?? "").replace(/\.md$/, "");
  const problem = slugProblem(slug);
  if (problem) throw new ApiError(400, "invalid_slug", `'${slug.slice(0, 60)}' is not a valid slug (${problem})`);
  const tenant = await loadTenantBySlug(pc.env.DB, slug);
  if (!tenant || tenant.deletedAt !== null) throw new ApiError(404, "api_not_found", `no API '${slug}'`);
  const origin = new URL(request.url).origin;
  return cached(request, `md|${origin}|${slug}@${tenant.version}`, "text/markdown; charset=utf-8", 60, async () => {
    const d = await describedWithContact(pc.env.DB, tenant.config);
    return apiMarkdown(d, `${origin}/t/${slug}`, `${origin}/t/${slug}/openapi.json`);
  });
}

export const TENANT_DOCUMENT_PATHS = new Set(["/openapi.json", "/.well-known/x402"]);

/**
 * A tenant's own discovery documents, or null when `path` is not one of them. `baseUrl` is the
 * API root on this request's origin (`{origin}/t/<slug>` or `https://<host>`); `receiptKeys` are
 * listed in its `/.well-known/x402` (src/receipts/document.ts).
 */
export async function tenantDocument(
  db: D1Database,
  config: TenantConfig,
  request: Request,
  path: string,
  baseUrl: string,
  receiptKeys: readonly PublishedKey[] = [],
): Promise<Response | null> {
  if (!TENANT_DOCUMENT_PATHS.has(path) || (request.method !== "GET" && request.method !== "HEAD")) return null;
  const key = `${path}|${baseUrl}|${config.slug}@${config.version}|${keysTag(receiptKeys)}`;
  return cached(request, key, JSON_TYPE, 60, async () => {
    const d = await describedWithContact(db, config);
    if (path === "/openapi.json") return JSON.stringify(apiOpenApi(d, baseUrl));
    const doc = wellKnownX402(paidResources(d, baseUrl));
    return JSON.stringify({ ...doc, ...wellKnownReceiptField(receiptKeys, baseUrl) });
  });
}
