// The one interface every tenant backend implements, and the request the tenant sees: its own
// path as an opaque path (never re-parsed as a URL: `//evil.example/x` stays a path on our host),
// the query, our request id, and a body read whole under the tenant body limit (src/http/body-limit.ts).
import type { TenantConfig } from "../config/tenant-config.ts";
import { carriesBody, checkTenantBodySize, readBoundedBody } from "../http/body-limit.ts";
import { ApiError } from "../http/errors.ts";

export interface TenantRuntime {
  /** Runs the tenant's code. Throws ApiError for platform-side failures (missing script, crash). */
  fetch(tenant: TenantConfig, request: Request): Promise<Response>;
}

// Credentials and payment proofs belong to the platform, not to tenant code.
const WITHHELD_HEADERS = [
  "authorization",
  "cookie",
  "payment-signature",
  "x-payment",
  "cf-connecting-ip",
  "x-forwarded-for",
  "x-real-ip",
];

function invalidPath(): ApiError {
  return new ApiError(400, "invalid_path", "the request path cannot be passed to the tenant as a path");
}

/**
 * The tenant's URL: our origin, `path` set as a path (so a leading `//` never becomes a host) and
 * the caller's query. `path` is a serialized pathname (a suffix of the caller's URL's), so setting
 * it changes nothing; if it would, the request is refused rather than served on another path.
 */
export function tenantUrl(source: URL, path: string): URL {
  const opaque = path.startsWith("/") ? path : `/${path}`;
  const url = new URL(source.origin);
  url.pathname = opaque;
  url.search = source.search;
  if (url.host !== source.host || url.pathname !== opaque) throw invalidPath();
  return url;
}

/**
 * The request a tenant receives: its own path (prefix stripped), the query, our request id.
 * A declared body over the limit is refused here (413); a GET/HEAD body is never forwarded and
 * is cancelled so it cannot linger on the connection.
 */
export function tenantRequest(original: Request, path: string, requestId: string): Request {
  const refused = checkTenantBodySize(original);
  if (refused) throw refused;
  const hasBody = carriesBody(original.method);
  if (!hasBody && original.body && !original.bodyUsed) original.body.cancel().catch(() => undefined);
  const url = tenantUrl(new URL(original.url), path);
  const headers = new Headers(original.headers);
  for (const name of WITHHELD_HEADERS) headers.delete(name);
  headers.set("x-request-id", requestId);
  return new Request(url, {
    method: original.method,
    headers,
    body: hasBody ? original.body : null,
    redirect: "manual",
  });
}

/**
 * The tenant request with its body read whole (counted, ≤ MAX_TENANT_BODY_BYTES, else 413) before
 * any tenant work: a tenant that never reads its body cannot leave the caller's stream half-read.
 */
export async function withBoundedBody(request: Request): Promise<Request> {
  if (!request.body) return request;
  const bytes = await readBoundedBody(request.body);
  const headers = new Headers(request.headers);
  headers.delete("transfer-encoding");
  return new Request(request.url, {
    method: request.method,
    headers,
    body: bytes.byteLength ? bytes : null,
    redirect: "manual",
  });
}

export function tenantNotDeployed(slug: string): ApiError {
  return new ApiError(404, "tenant_not_deployed", `no code is deployed for tenant '${slug}'`);
}

export function tenantWorkerFailure(slug: string, cause: unknown): ApiError {
  // The cause is logged by the caller, not returned: tenant stack traces are the creator's business.
  void cause;
  return new ApiError(502, "tenant_worker_failure", `the worker of tenant '${slug}' failed to handle the request`);
}
