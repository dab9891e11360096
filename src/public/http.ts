// HTTP plumbing of the public read API (docs/ARCHITECTURE.md §8): CORS for any origin, OPTIONS
// preflight, and snapshot responses with ETag / 304 and Cache-Control: public, max-age = the
// rollup period. Query parameters are parsed by query.ts.
//
// ETag = hash of (snapshot version, path, normalised query, origin): the origin is in because
// bodies carry absolute URLs. Every response reads the snapshot version (one primary-key row);
// the serialised body of each ETag is kept per isolate (LRU), so a hot query costs that one read.
// A request while no snapshot exists yet gets empty results and starts the rollup coordinator.
import type { IRequest } from "itty-router";
import { ApiError } from "../http/errors.ts";
import type { PlatformContext } from "../control/context.ts";
import type { WindowName } from "../../objects/leaderboard/windows.ts";
import { DIRECTORY_PARAM, parseQuery, TEXT_PARAM, WINDOW_PARAM } from "./query.ts";
import { rollupCoordinator, rollupPeriodSeconds } from "../../objects/leaderboard/shards.ts";
import { readMeta, sha256Hex, type SnapshotMeta } from "../../objects/leaderboard/snapshot-store.ts";

export const CORS_HEADERS: Readonly<Record<string, string>> = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "etag, x-request-id",
};

type Handler = (request: IRequest, pc: PlatformContext) => Promise<Response> | Response;

/** Adds CORS to the handler's response and to its errors (the JSON envelope keeps its code). */
export function publicRoute(handler: Handler): Handler {
  return async (request, pc) => {
    try {
      const response = await handler(request, pc);
      for (const [k, v] of Object.entries(CORS_HEADERS)) response.headers.set(k, v);
      return response;
    } catch (err) {
      if (err instanceof ApiError)
        throw new ApiError(err.status, err.code, err.message, err.details, { ...err.headers, ...CORS_HEADERS });
      throw err;
    }
  };
}

export function preflight(): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...CORS_HEADERS,
      "access-control-allow-methods": "GET, OPTIONS",
      "access-control-allow-headers": "if-none-match, content-type",
      "access-control-max-age": "86400",
    },
  });
}

// ---- query parameters of the web pages (src/web/), parsed by the API's schemas (query.ts) ----

export function windowParam(params: URLSearchParams, fallback: WindowName = "week"): WindowName {
  return parseQuery(params, { window: { ...WINDOW_PARAM, fallback } }).window;
}

export function textParam(params: URLSearchParams, name: string): string | null {
  return parseQuery(params, { [name]: TEXT_PARAM })[name] ?? null;
}

export function directoryParam(params: URLSearchParams): string | null {
  return parseQuery(params, { directory: DIRECTORY_PARAM }).directory;
}

// ---- snapshot responses ----------------------------------------------------------------------

const BODY_CACHE_MAX = 256;
const bodyCache = new Map<string, string>();

function remember(etag: string, text: string): void {
  bodyCache.delete(etag);
  bodyCache.set(etag, text);
  if (bodyCache.size > BODY_CACHE_MAX) bodyCache.delete(bodyCache.keys().next().value!);
}

export function etagMatches(header: string | null, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((t) => {
    const tag = t.trim();
    return tag === "*" || tag.replace(/^W\//, "") === etag;
  });
}

export function asOfIso(meta: SnapshotMeta | null): string | null {
  return meta ? new Date(meta.asOf).toISOString() : null;
}

/** The cache key of a request: path + sorted query + origin. */
export function requestKey(url: URL): string {
  const params = [...url.searchParams.entries()].sort(([a, av], [b, bv]) =>
    a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1,
  );
  return `${url.origin}${url.pathname}?${new URLSearchParams(params).toString()}`;
}

/**
 * Serves what `build()` reads from the snapshot, with ETag and Cache-Control. `build` reads its
 * rows in one D1 batch together with the snapshot meta and returns that meta: the ETag is
 * computed from the version the body was actually read at. ApiErrors from `build` (404,
 * unknown_directory) are never cached.
 */
export async function snapshotJson(
  request: Request,
  pc: PlatformContext,
  build: () => Promise<{ meta: SnapshotMeta | null; body: unknown }>,
): Promise<Response> {
  const key = requestKey(new URL(request.url));
  const etagOf = async (meta: SnapshotMeta | null) =>
    `"${(await sha256Hex(`${meta?.version ?? 0}|${key}`)).slice(0, 32)}"`;
  const headersOf = (meta: SnapshotMeta | null, etag: string) => ({
    ...CORS_HEADERS,
    etag,
    "cache-control": `public, max-age=${meta?.periodSeconds ?? rollupPeriodSeconds(pc.env)}`,
  });
  const current = await readMeta(pc.env.DB);
  if (!current)
    pc.ctx.waitUntil(
      rollupCoordinator(pc.env)
        .kick()
        .catch(() => undefined),
    );
  let etag = await etagOf(current);
  let headers = headersOf(current, etag);
  if (etagMatches(request.headers.get("if-none-match"), etag)) return new Response(null, { status: 304, headers });
  let text = bodyCache.get(etag);
  if (text === undefined) {
    const { meta, body } = await build();
    text = JSON.stringify(body);
    etag = await etagOf(meta);
    headers = headersOf(meta, etag);
    remember(etag, text);
  }
  return new Response(text, {
    status: 200,
    headers: { ...headers, "content-type": "application/json; charset=utf-8" },
  });
}
