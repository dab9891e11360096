// The admit phase: ask the tenant's meter, keeping the meter and this isolate's config in step.
// A meter that lost or never got its config is configured from D1 and asked again (nothing was
// consumed by the refusal). A meter behind us is updated for later calls without re-admitting
// this one (that would take twice); a meter ahead of us means our cached config is stale, so it
// is dropped.
import type { TenantConfig } from "../config/tenant-config.ts";
import type { AdmitRequest, AdmitResult, PaidAdmitRequest, PaymentRefusal } from "../../objects/meter/types.ts";
import { TenantDirectory } from "../tenancy/directory.ts";
import { meterConfigFrom, type TenantMeterStub } from "../tenancy/meter-config.ts";
import type { CallContext } from "./context.ts";

type Meter = TenantMeterStub;

export async function admitSyncingConfig(
  call: CallContext,
  meter: Meter,
  tenant: TenantConfig,
  req: AdmitRequest,
): Promise<AdmitResult>;
export async function admitSyncingConfig(
  call: CallContext,
  meter: Meter,
  tenant: TenantConfig,
  req: PaidAdmitRequest,
): Promise<AdmitResult | PaymentRefusal>;
export async function admitSyncingConfig(
  call: CallContext,
  meter: Meter,
  tenant: TenantConfig,
  req: AdmitRequest | PaidAdmitRequest,
): Promise<AdmitResult | PaymentRefusal> {
  // Paid admits go through admitPaid: the RPC stub only types a method's last signature.
  const ask = (): Promise<AdmitResult | PaymentRefusal> => ("payment" in req ? meter.admitPaid(req) : meter.admit(req));
  let admit = await ask();
  if (!admit.ok && admit.code === "tenant_not_configured") {
    await meter.configure(meterConfigFrom(tenant, call.config.deployEnv));
    admit = await ask();
  } else if (admit.configVersion < tenant.version) {
    call.ctx.waitUntil(meter.configure(meterConfigFrom(tenant, call.config.deployEnv)));
  }
  const stale = admit.configVersion > tenant.version || (!admit.ok && admit.code === "tenant_not_found");
  if (stale) TenantDirectory.forget(tenant.slug);
  return admit;
}
