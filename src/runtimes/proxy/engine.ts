// The proxy engine (docs/ARCHITECTURE.md §5). It is platform code, so it runs inside the dispatcher rather than
// in a loaded isolate: it needs the tenant's decrypted header secrets, and keeping them in the
// process that decrypts them means they never cross into an isolate's env; there is also no
// creator code to sandbox and one hop less on every call. Both runtime backends share it.
import type { ProxyArtifact, TenantConfig } from "../../config/tenant-config.ts";
import { ApiError, errorResponse } from "../../http/errors.ts";
import { applyTransform } from "./transform.ts";
import { chargeFromUpstream, chargeNeedsBody } from "./charge-rule.ts";
import { cacheTtlFor, LruCache } from "./cache.ts";
import { checkUpstreamUrl } from "./ssrf.ts";
import { upstreamHeaderName } from "./upstream-headers.ts";

/** Request headers never forwarded upstream: credentials, payment proofs, client identity, hop-by-hop. */
const DROP_REQUEST = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "payment-signature",
  "payment-required",
  "payment-response",
  "x-payment",
  "x-payment-response",
  "host",
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "content-length",
  "accept-encoding",
  "x-real-ip",
  "true-client-ip",
  "forwarded",
]);
const DROP_REQUEST_PREFIX = ["cf-", "x-forwarded-", "payment-", "x-payment", "x-claw-"];
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const UPSTREAM_TIMEOUT_MS = 30_000;

export interface ProxyDeps {
  secrets: Record<string, string>;
  /** ALLOW_LOOPBACK_UPSTREAMS === "true" on this deployment. */
  loopbackAllowed: boolean;
  fetch: (request: Request) => Promise<Response>;
  cache: LruCache;
  now: number;
}

export const sharedProxyCache = new LruCache();

/** Joins the upstream base (path kept) with the tenant-relative path and the caller's query. */
export function upstreamUrlFor(upstream: string, path: string, search: string): string {
  const base = new URL(upstream);
  const basePath = base.pathname.replace(/\/+$/, "");
  const rest = path.startsWith("/") ? path : `/${path}`;
  base.pathname = rest === "/" && basePath ? basePath : basePath + rest;
  base.search = search;
  base.hash = "";
  return base.toString();
}

export function forwardedHeaders(incoming: Headers, artifact: ProxyArtifact, secrets: Record<string, string>): Headers {
  const out = new Headers();
  for (const [name, value] of incoming) {
    const lower = name.toLowerCase();
    if (DROP_REQUEST.has(lower) || DROP_REQUEST_PREFIX.some((p) => lower.startsWith(p))) continue;
    out.set(name, value);
  }
  for (const [name, spec] of Object.entries(artifact.headers)) {
    const secret = secrets[spec.secret];
    if (secret === undefined)
      throw new ApiError(
        502,
        "proxy_misconfigured",
        `the proxy's secret for header ${name} is not set; the creator must redeploy with it`,
      );
    out.set(name, (spec.prefix ?? "") + secret);
  }
  return out;
}

function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join("[redacted]");
  return out;
}

function isTextual(contentType: string): boolean {
  const ct = contentType.toLowerCase();
  return (
    ct.startsWith("text/") ||
    ct.includes("json") ||
    ct.includes("xml") ||
    ct.includes("javascript") ||
    ct.includes("x-www-form-urlencoded")
  );
}

/**
 * Runs one proxied call. Refusals come back as error-envelope Responses (not thrown), so headers
 * such as `Allow` survive the call path, and a paid call is never charged for them (status >= 400).
 */
export async function runProxy(
  tenant: TenantConfig,
  artifact: ProxyArtifact,
  request: Request,
  deps: ProxyDeps,
): Promise<Response> {
  try {
    return await proxyOnce(tenant, artifact, request, deps);
  } catch (err) {
    if (err instanceof ApiError) return errorResponse(err, request.headers.get("x-request-id") ?? "");
    throw err;
  }
}

async function proxyOnce(
  tenant: TenantConfig,
  artifact: ProxyArtifact,
  request: Request,
  deps: ProxyDeps,
): Promise<Response> {
  const method = request.method.toUpperCase();
  if (!(artifact.methods as string[]).includes(method)) {
    throw new ApiError(
      405,
      "method_not_allowed",
      `${method} is not allowed on this API; allowed: ${artifact.methods.join(", ")}`,
      undefined,
      { allow: artifact.methods.join(", ") },
    );
  }
  const incoming = new URL(request.url);
  const target = upstreamUrlFor(artifact.upstream, incoming.pathname, incoming.search);
  const verdict = checkUpstreamUrl(target, { allowLoopback: artifact.allowLoopback && deps.loopbackAllowed });
  if (!verdict.ok) throw new ApiError(502, "upstream_refused", `the upstream is not allowed: ${verdict.reason}`);

  const usedSecrets = Object.values(artifact.headers)
    .map((h) => deps.secrets[h.secret])
    .filter((s): s is string => typeof s === "string" && s.length > 0);
  const cacheKey = `${tenant.slug}@${tenant.version} ${target}`;
  const cacheable = method === "GET" && artifact.cacheTtlSeconds > 0;
  if (cacheable) {
    const hit = deps.cache.get(cacheKey, deps.now);
    if (hit) {
      const headers = new Headers(hit.headers);
      headers.set("x-claw-cache", "HIT");
      return new Response(hit.body.slice(0), { status: hit.status, headers });
    }
  }

  const headers = forwardedHeaders(request.headers, artifact, deps.secrets);
  const hasBody = method !== "GET" && method !== "HEAD";
  let upstream: Response;
  try {
    // Redirects are not followed: the caller gets the 3xx, so no hop can reach an unsafe target.
    upstream = await deps.fetch(
      new Request(target, {
        method,
        headers,
        body: hasBody ? request.body : null,
        redirect: "manual",
        signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
      }),
    );
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    throw new ApiError(
      timedOut ? 504 : 502,
      timedOut ? "upstream_timeout" : "upstream_unreachable",
      timedOut ? "the upstream did not answer in time" : "the upstream could not be reached",
    );
  }

  const outHeaders = new Headers();
  for (const [name, value] of upstream.headers) {
    const passedAs = upstreamHeaderName(name, upstream.status);
    if (passedAs === null) continue;
    outHeaders.append(passedAs, usedSecrets.length ? scrub(value, usedSecrets) : value);
  }
  const contentType = upstream.headers.get("content-type") ?? "";
  const declared = Number(upstream.headers.get("content-length") ?? "NaN");
  const wantsTransform = !!artifact.transform && contentType.toLowerCase().includes("json");
  const ttl = cacheTtlFor(method, upstream.status, upstream.headers, artifact.cacheTtlSeconds);
  // The charge rule of usage-priced operations: a header rule now, a JSON-path rule from the body.
  const chargeBody = chargeNeedsBody(artifact.charge);
  const rule = artifact.charge;
  const headerCharge = rule && !chargeBody ? chargeFromUpstream(rule, upstream.headers, null) : null;
  if (headerCharge !== null) outHeaders.set("x-claw-charge", headerCharge);
  const mustBuffer = (isTextual(contentType) && usedSecrets.length > 0) || wantsTransform || ttl > 0 || chargeBody;
  if (!mustBuffer || method === "HEAD" || (Number.isFinite(declared) && declared > MAX_BUFFERED_BYTES)) {
    outHeaders.set("x-claw-cache", cacheable ? "BYPASS" : "NONE");
    return new Response(method === "HEAD" ? null : upstream.body, { status: upstream.status, headers: outHeaders });
  }
  let body: ArrayBuffer = await upstream.arrayBuffer();
  if (body.byteLength > MAX_BUFFERED_BYTES)
    throw new ApiError(502, "upstream_too_large", `the upstream response is larger than ${MAX_BUFFERED_BYTES} bytes`);
  if (chargeBody) {
    const charge = chargeFromUpstream(artifact.charge!, upstream.headers, new TextDecoder().decode(body));
    if (charge !== null) outHeaders.set("x-claw-charge", charge);
  }
  if (isTextual(contentType) && (wantsTransform || usedSecrets.length)) {
    let text = new TextDecoder().decode(body);
    if (wantsTransform) {
      try {
        text = JSON.stringify(applyTransform(JSON.parse(text), artifact.transform));
      } catch {
        // Not JSON after all: passed through untransformed.
      }
    }
    if (usedSecrets.length) text = scrub(text, usedSecrets);
    body = new TextEncoder().encode(text).buffer as ArrayBuffer;
  }
  if (ttl > 0) {
    deps.cache.set(cacheKey, {
      status: upstream.status,
      headers: [...outHeaders],
      body,
      expiresAt: deps.now + ttl * 1000,
    });
  }
  outHeaders.set("x-claw-cache", cacheable ? (ttl > 0 ? "MISS" : "BYPASS") : "NONE");
  return new Response(body.slice(0), { status: upstream.status, headers: outHeaders });
}
