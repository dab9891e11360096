// The free flow (docs/ARCHITECTURE.md §3): admit (the caller is an HMAC of its IP) → tenant.
// Refusals never reach tenant code.
import type { TenantConfig } from "../config/tenant-config.ts";
import { ApiError } from "../http/errors.ts";
import { meterFor } from "../tenancy/meter-config.ts";
import { admitSyncingConfig } from "./admit.ts";
import type { CallContext } from "./context.ts";
import type { CallResult } from "./result.ts";
import { runTenant } from "./run-tenant.ts";

export async function freeFlow(
  call: CallContext,
  tenant: TenantConfig,
  request: Request,
  path: string,
  caller: string,
): Promise<CallResult> {
  const meter = meterFor(call.env, tenant.slug);
  const admit = await admitSyncingConfig(call, meter, tenant, { caller, now: call.startedAt });
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
