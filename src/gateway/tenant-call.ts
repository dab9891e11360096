// A call to a tenant (free flow, docs/ARCHITECTURE.md §3): meter admit → tenant runtime → response with
// limit headers → usage record. Refusals never reach tenant code and still get recorded.
import type { TenantConfig } from "../config/tenant-config.ts";
import type { AdmitRequest, AdmitResult, PaidAdmitRequest, PaymentRefusal, UsageRecord } from "../../objects/meter/types.ts";
import { requirementsFor } from "../payments/requirements.ts";
import { callPaidTenant } from "../payments/paid-call.ts";
import { ApiError } from "../http/errors.ts";
import { TenantDirectory } from "../tenancy/directory.ts";
import { meterConfigFrom, meterFor } from "../tenancy/meter-config.ts";
import { callerFromIp, callerLabel } from "../tenancy/caller.ts";
import { tenantRequest } from "../runtimes/runtime.ts";
import { recordUsage } from "./usage-buffer.ts";
import { selectRuntime } from "../runtimes/select.ts";

export interface CallContext {
  env: Env;
  ctx: ExecutionContext;
  requestId: string;
  startedAt: number;
}

export async function callTenant(call: CallContext, tenant: TenantConfig, request: Request, path: string): Promise<Response> {
  const requirements = requirementsFor(tenant);
  if (requirements) return callPaidTenant(call, tenant, requirements, request, path);
  const { env, ctx, requestId } = call;
  const meter = meterFor(env, tenant.slug);
  const caller = await callerFromIp(request, env.API_KEY_SECRET);
  const label = callerLabel(request);

  const admit = (await admitSyncingConfig(call, meter, tenant, { caller, now: call.startedAt })) as AdmitResult;
  if (!admit.ok) {
    record(call, tenant.slug, { caller, callerLabel: label, status: admit.status, outcome: admit.code === "quota_exceeded" ? "quota_exceeded" : "rate_limited" });
    throw new ApiError(admit.status, admit.code, admit.message, undefined, admit.headers);
  }

  let upstream: Response;
  try {
    upstream = await selectRuntime(env, ctx).fetch(tenant, tenantRequest(request, path, requestId));
  } catch (err) {
    const status = err instanceof ApiError ? err.status : 502;
    record(call, tenant.slug, { caller, callerLabel: label, status, outcome: "tenant_error" });
    if (err instanceof ApiError) throw new ApiError(err.status, err.code, err.message, err.details, admit.headers);
    throw err;
  }

  const response = new Response(upstream.body, upstream);
  for (const [name, value] of Object.entries(admit.headers)) response.headers.set(name, value);
  record(call, tenant.slug, { caller, callerLabel: label, status: upstream.status, outcome: upstream.status >= 500 ? "tenant_error" : "served" });
  return response;
}

type Meter = ReturnType<typeof meterFor>;

/**
 * Admit, keeping the meter and this isolate's config in step. A meter that lost or never got its
 * config is configured from D1 and asked again (nothing was consumed by the refusal). A meter
 * behind us is updated for later calls without re-admitting this one (that would take twice);
 * a meter ahead of us means our cached config is stale, so it is dropped.
 */
export async function admitSyncingConfig(call: CallContext, meter: Meter, tenant: TenantConfig, req: AdmitRequest | PaidAdmitRequest): Promise<AdmitResult | PaymentRefusal> {
  // Paid admits go through admitPaid: the RPC stub only types a method's last signature.
  const ask = (): Promise<AdmitResult | PaymentRefusal> => ("payment" in req ? meter.admitPaid(req) : meter.admit(req));
  let admit = await ask();
  if (!admit.ok && admit.code === "tenant_not_configured") {
    await meter.configure(meterConfigFrom(tenant, call.env.DEPLOY_ENV));
    admit = await ask();
  } else if (admit.configVersion < tenant.version) {
    call.ctx.waitUntil(meter.configure(meterConfigFrom(tenant, call.env.DEPLOY_ENV)));
  }
  if (admit.configVersion > tenant.version || (!admit.ok && admit.code === "tenant_not_found")) TenantDirectory.forget(tenant.slug);
  return admit;
}

export function record(call: CallContext, slug: string, usage: Pick<UsageRecord, "caller" | "callerLabel" | "status" | "outcome">): void {
  const entry: UsageRecord = { ...usage, requestId: call.requestId, ts: call.startedAt, latencyMs: Date.now() - call.startedAt };
  if (entry.callerLabel === undefined) delete entry.callerLabel;
  recordUsage(call.env, call.ctx, slug, entry);
}
