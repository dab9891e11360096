// The runtime phase: the tenant's code gets its request (its own path, our request id, no
// platform credentials) and answers, or its runtime throws. What a throw means (the tenant's
// crash or timeout, or a failure of ours) is decided once, in outcome.ts.
import type { TenantConfig } from "../config/tenant-config.ts";
import { tenantRequest } from "../runtimes/runtime.ts";
import { selectRuntime } from "../runtimes/select.ts";
import type { CallContext } from "./context.ts";

export type TenantRun = { kind: "answered"; response: Response } | { kind: "threw"; error: unknown };

export async function runTenant(
  call: CallContext,
  tenant: TenantConfig,
  request: Request,
  path: string,
): Promise<TenantRun> {
  try {
    const runtime = selectRuntime(call.env, call.ctx);
    const response = await runtime.fetch(tenant, tenantRequest(request, path, call.requestId));
    return { kind: "answered", response };
  } catch (error) {
    return { kind: "threw", error };
  }
}
