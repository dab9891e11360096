// TenantConfig → the MeterConfig slice the TenantMeter enforces.
import type { TenantConfig } from "../config/tenant-config.ts";
import type { MeterConfig } from "../../objects/meter/types.ts";
import { assetFor } from "../config/assets.ts";
import { usdToAtomic } from "../../objects/shared/money.ts";
import { configOf } from "../config/env.ts";
import { delayedMeter } from "./meter-delay.ts";

export function meterConfigFrom(config: TenantConfig, deployEnv: string | undefined, deleted = false): MeterConfig {
  const asset = assetFor(config.network, config.asset);
  return {
    slug: config.slug,
    version: config.version,
    deleted,
    rateLimit: config.rateLimit,
    usageLimit: config.usageLimit,
    spendLimit: config.spendLimit,
    priceAtomic: asset ? usdToAtomic(config.priceUsd, asset.decimals).toString() : "0",
    spendCapsAtomic: asset ? spendCapsAtomic(config.spendLimit, asset.decimals) : {},
    // Usage events for the leaderboard; `test` unless the deployment says it is production.
    events: {
      owner: config.owner,
      directory: config.directory,
      network: config.network,
      env: deployEnv === "prod" ? "prod" : "test",
    },
  };
}

function spendCapsAtomic(limit: TenantConfig["spendLimit"], decimals: number): MeterConfig["spendCapsAtomic"] {
  const caps: NonNullable<MeterConfig["spendCapsAtomic"]> = {};
  if (limit.dailyUsd !== undefined) caps.daily = usdToAtomic(limit.dailyUsd, decimals).toString();
  if (limit.monthlyUsd !== undefined) caps.monthly = usdToAtomic(limit.monthlyUsd, decimals).toString();
  if (limit.perPayerDailyUsd !== undefined)
    caps.perPayerDaily = usdToAtomic(limit.perPayerDailyUsd, decimals).toString();
  return caps;
}

export type TenantMeterStub = DurableObjectStub<import("../../objects/meter/tenant-meter.ts").TenantMeter>;

export function meterFor(env: Env, slug: string): TenantMeterStub {
  const stub = env.TENANT_METER.get(env.TENANT_METER.idFromName(slug)) as TenantMeterStub;
  // Benchmarks only: simulated distance to the meter (unset in every real deployment).
  const delayMs = configOf(env).benchMeterDelayMs;
  return delayMs > 0 ? delayedMeter(stub, delayMs) : stub;
}
