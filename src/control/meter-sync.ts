// Pushes a tenant's config to its TenantMeter after D1 changed. D1 is the source of truth; if
// this push fails the dispatcher heals the meter on the next call (see gateway/admit.ts).
import type { TenantConfig } from "../config/tenant-config.ts";
import { meterConfigFrom, meterFor } from "../tenancy/meter-config.ts";
import { TenantDirectory } from "../tenancy/directory.ts";
import { configOf } from "../config/env.ts";

export async function pushMeterConfig(env: Env, config: TenantConfig, deleted = false): Promise<void> {
  TenantDirectory.forget(config.slug);
  const meterConfig = meterConfigFrom(config, configOf(env).deployEnv, deleted);
  for (let attempt = 1; ; attempt++) {
    try {
      await meterFor(env, config.slug).configure(meterConfig);
      return;
    } catch (err) {
      if (attempt >= 3) {
        console.error(`meter configure failed for ${config.slug}@${config.version}`, err);
        return;
      }
    }
  }
}
