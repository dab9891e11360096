// The free flow's admit through this isolate's lease cache (lease-cache.ts, docs/ARCHITECTURE.md
// §14). Each grant RPC keeps the meter and this isolate's config in step exactly as
// admitSyncingConfig (admit.ts) does for admits: an unconfigured meter is configured from the
// tenant config and asked again, one behind us is updated in the background, one ahead of us
// means our cached tenant config is stale and is dropped.
import type { TenantConfig } from "../config/tenant-config.ts";
import type { AdmitResult, LeaseRequest, LeaseResult } from "../../objects/meter/types.ts";
import { TenantDirectory } from "../tenancy/directory.ts";
import { meterConfigFrom, meterFor, type TenantMeterStub } from "../tenancy/meter-config.ts";
import type { CallContext } from "./context.ts";
import { LeaseCache } from "./lease-cache.ts";

/** This isolate's leases: one holder per isolate, shared by every request it serves. */
const leases = new LeaseCache();

export function admitLeased(call: CallContext, tenant: TenantConfig, caller: string): Promise<AdmitResult> {
  // A stub per request (workerd forbids using one request's I/O objects in another), made only
  // when this request asks the meter: most calls are admitted from the lease without it.
  return leases.admit(tenant.slug, {
    caller,
    now: call.startedAt,
    version: tenant.version,
    perCaller: tenant.rateLimit.perCaller !== undefined,
    ask: (req) => leaseSyncingConfig(call, meterFor(call.env, tenant.slug), tenant, req),
    defer: (work) => call.ctx.waitUntil(work.catch(() => undefined)),
  });
}

async function leaseSyncingConfig(
  call: CallContext,
  meter: TenantMeterStub,
  tenant: TenantConfig,
  req: LeaseRequest,
): Promise<LeaseResult> {
  let res = await meter.lease(req);
  if (!res.ok && res.code === "tenant_not_configured") {
    await meter.configure(meterConfigFrom(tenant, call.config.deployEnv));
    res = await meter.lease(req);
  } else if (res.configVersion < tenant.version) {
    call.ctx.waitUntil(meter.configure(meterConfigFrom(tenant, call.config.deployEnv)));
  }
  const stale = res.configVersion > tenant.version || (!res.ok && res.code === "tenant_not_found");
  if (stale) TenantDirectory.forget(tenant.slug);
  return res;
}
