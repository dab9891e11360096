// The free flow (docs/ARCHITECTURE.md §3): admit (the caller is an HMAC of its IP) → tenant.
// Refusals never reach tenant code. The admit comes from this isolate's leases of the meter's
// tokens (lease-admit.ts, docs/ARCHITECTURE.md §14), with the same refusals and headers.
import type { TenantConfig } from "../config/tenant-config.ts";
import { ApiError } from "../http/errors.ts";
import type { CallContext } from "./context.ts";
import { admitLeased } from "./lease-admit.ts";
import type { CallResult } from "./result.ts";
import { runTenant } from "./run-tenant.ts";

export async function freeFlow(
  call: CallContext,
  tenant: TenantConfig,
  request: Request,
  path: string,
  caller: string,
): Promise<CallResult> {
  const admit = await admitLeased(call, tenant, caller);
  if (!admit.ok) {
    const error = new ApiError(admit.status, admit.code, admit.message, undefined, admit.headers);
    return { kind: "refused", error, payer: null };
  }
  const run = await runTenant(call, tenant, request, path);
  if (run.kind === "threw") {
    return { kind: "tenant_failed", error: run.error, limitHeaders: admit.headers, payer: null };
  }
  return { kind: "served", response: run.response, limitHeaders: admit.headers, payer: null };
}

/**
 * Benchmarks only (`BENCH_UNMETERED_SLUG`, src/config/env.ts): the same call without its meter (no
 * admit, no limit headers, nothing recorded), on the same runtime hop: the baseline the metered
 * call is measured against.
 */
export async function unmeteredFreeCall(
  call: CallContext,
  tenant: TenantConfig,
  request: Request,
  path: string,
): Promise<Response> {
  const run = await runTenant(call, tenant, request, path);
  if (run.kind === "threw") throw run.error;
  return run.response;
}
