// The one interface every tenant backend implements, and the request the tenant sees.
import type { TenantConfig } from "../config/tenant-config.ts";
import { ApiError } from "../http/errors.ts";

export interface TenantRuntime {
  /** Runs the tenant's code. Throws ApiError for platform-side failures (missing script, crash). */
  fetch(tenant: TenantConfig, request: Request): Promise<Response>;
}

// Credentials and payment proofs belong to the platform, not to tenant code.
const WITHHELD_HEADERS = ["authorization", "cookie", "payment-signature", "x-payment", "cf-connecting-ip", "x-forwarded-for", "x-real-ip"];

/** The request a tenant receives: its own path (prefix stripped), the query, our request id. */
export function tenantRequest(original: Request, path: string, requestId: string): Request {
  const source = new URL(original.url);
  const url = new URL(path + source.search, source.origin);
  const headers = new Headers(original.headers);
  for (const name of WITHHELD_HEADERS) headers.delete(name);
  headers.set("x-request-id", requestId);
  const hasBody = original.method !== "GET" && original.method !== "HEAD";
  return new Request(url, { method: original.method, headers, body: hasBody ? original.body : null, redirect: "manual" });
}

export function tenantNotDeployed(slug: string): ApiError {
  return new ApiError(404, "tenant_not_deployed", `no code is deployed for tenant '${slug}'`);
}

export function tenantWorkerFailure(slug: string, cause: unknown): ApiError {
  // The cause is logged by the caller, not returned: tenant stack traces are the creator's business.
  void cause;
  return new ApiError(502, "tenant_worker_failure", `the worker of tenant '${slug}' failed to handle the request`);
}
