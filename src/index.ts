// Dispatcher entry: mints the request id, resolves platform vs tenant, and turns every failure
// into the JSON error envelope. Routing lives in platform/router.ts, the call path in gateway/.
import { ApiError, errorResponse } from "./http/errors.ts";
import { newRequestId } from "./http/request-id.ts";
import { configOf } from "./config/env.ts";
import { resolveTarget } from "./tenancy/resolve.ts";
import { TenantDirectory } from "./tenancy/directory.ts";
import { slugProblem } from "./config/slug.ts";
import { callTenant } from "./gateway/call.ts";
import { platformRouter } from "./platform/router.ts";
import { tenantDocument } from "./discovery/http.ts";
import { tenantMcp } from "./mcp/api-server.ts";
import { RECEIPT_KEYS_PATH } from "./receipts/document.ts";
import { receiptKeysResponse } from "./receipts/http.ts";
import { deploymentKeys } from "./receipts/signer.ts";

export { TenantMeter } from "../objects/meter/tenant-meter.ts";
export { Leaderboard } from "../objects/leaderboard/leaderboard.ts";
export { TelemetrySink } from "../objects/telemetry/telemetry-sink.ts";
export { DatasetStore } from "./runtimes/dataset-store.ts";
export { EgressGateway } from "./runtimes/egress-gateway.ts";

async function route(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  requestId: string,
  now: number,
): Promise<Response> {
  const config = configOf(env);
  const url = new URL(request.url);
  const target = resolveTarget(url, config.platformHosts);
  if (target.kind === "platform") {
    return platformRouter.fetch(request, { env, ctx, config, requestId, now });
  }
  const directory = new TenantDirectory(env.DB, config.configCacheTtlMs);
  let tenant;
  if (target.kind === "tenant-path") {
    const problem = slugProblem(target.slug);
    if (problem)
      throw new ApiError(400, "invalid_slug", `'${target.slug.slice(0, 60)}' is not a valid tenant slug (${problem})`);
    tenant = await directory.bySlug(target.slug);
    if (!tenant) throw new ApiError(404, "tenant_not_found", `no tenant '${target.slug}'`);
  } else {
    tenant = await directory.byHost(target.host);
    if (!tenant) throw new ApiError(404, "unknown_host", `no tenant serves host '${target.host}'`);
  }
  // The tenant's discovery documents are the platform's, ahead of its code (docs/ARCHITECTURE.md §11).
  const base = target.kind === "tenant-path" ? `${url.origin}/t/${tenant.slug}` : url.origin;
  if (target.path === RECEIPT_KEYS_PATH && (request.method === "GET" || request.method === "HEAD")) {
    return receiptKeysResponse(request, config);
  }
  const document = await tenantDocument(env.DB, tenant, request, target.path, base, deploymentKeys(config.receipts));
  if (document) return document;
  const call = { env, ctx, config, requestId, startedAt: now };
  // So is its MCP endpoint (docs/ARCHITECTURE.md §12): `/mcp` is the platform's on every API.
  const mcp = await tenantMcp(call, tenant, request, target.path, base);
  if (mcp) return mcp;
  return callTenant(call, tenant, request, target.path);
}

export default {
  async fetch(request, env, ctx): Promise<Response> {
    const requestId = newRequestId();
    let response: Response;
    try {
      response = await route(request, env, ctx, requestId, Date.now());
    } catch (err) {
      if (!(err instanceof ApiError)) console.error(`unhandled error in ${requestId}`, err);
      response = errorResponse(
        err instanceof ApiError
          ? err
          : new ApiError(500, "internal_error", "internal error; quote the request id when reporting it"),
        requestId,
      );
    }
    // Always ours: a tenant must not be able to answer with another request's id.
    try {
      response.headers.set("x-request-id", requestId);
    } catch {
      response = new Response(response.body, response); // immutable headers (e.g. from fetch)
      response.headers.set("x-request-id", requestId);
    }
    return response;
  },
} satisfies ExportedHandler<Env>;
