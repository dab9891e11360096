// Rules a complete tenant config must meet beyond its shape, and the creator-visible view of it.
import * as v from "valibot";
import { ApiError } from "../http/errors.ts";
import { validate } from "../http/body.ts";
import { TenantConfigSchema, type TenantConfig } from "../config/tenant-config.ts";
import { anyPaid, entryPrice, PricesSchema } from "../config/prices.ts";
import { PLAN_LIMITS } from "../config/plans.ts";
import { assetFor } from "../config/assets.ts";
import { atomicToUsd, usdToAtomic } from "../../objects/shared/money.ts";
import { configOf } from "../config/env.ts";

/** Validates a complete config; throws 400/403 ApiErrors naming the field. */
export function checkTenantConfig(candidate: unknown, env: Env, previous: TenantConfig | null): TenantConfig {
  checkPrices(candidate);
  const config = validate(TenantConfigSchema, candidate, "config");
  const problems: { path: string; message: string }[] = [];
  if (anyPaid(config.prices, config.priceUsd)) {
    const message = "payTo is required when priceUsd > 0 or an operation has a price";
    if (!config.payTo) problems.push({ path: "payTo", message });
    const asset = assetFor(config.network, config.asset);
    if (!asset)
      problems.push({
        path: "asset",
        message: `no known asset on ${config.network}; set asset {address, name, version, decimals}`,
      });
    else {
      const roundsToZero = (usd: number) => usd > 0 && usdToAtomic(usd, asset.decimals) === 0n;
      const message = `rounds to 0 at ${asset.decimals} decimals`;
      if (roundsToZero(config.priceUsd)) problems.push({ path: "priceUsd", message: `priceUsd ${message}` });
      for (const [key, entry] of Object.entries(config.prices)) {
        if (roundsToZero(entryPrice(entry).usd))
          problems.push({ path: `prices.${key}`, message: `the price ${message}` });
      }
    }
  }
  const platformHosts = configOf(env).platformHosts;
  for (const host of config.hosts)
    if (platformHosts.has(host)) problems.push({ path: "hosts", message: `${host} is a platform host` });
  if (config.limits) {
    const ceiling = PLAN_LIMITS[config.plan];
    if ((config.limits.cpuMs ?? 0) > ceiling.cpuMs || (config.limits.subRequests ?? 0) > ceiling.subRequests) {
      problems.push({
        path: "limits",
        message: `limits may only lower the ${config.plan} plan's cpuMs ${ceiling.cpuMs} / subRequests ${ceiling.subRequests}`,
      });
    }
  }
  const first = problems[0];
  if (first) throw new ApiError(400, "invalid_config", `${first.path}: ${first.message}`, problems);
  // Quarantine is the operator's tool against abuse: creators can neither pick nor leave it.
  if (config.plan === "quarantine" && previous?.plan !== "quarantine")
    throw new ApiError(403, "plan_locked", "the quarantine plan is set by the operator only");
  if (previous?.plan === "quarantine" && config.plan !== "quarantine")
    throw new ApiError(403, "plan_locked", "this tenant is quarantined; contact the operator");
  return config;
}

/** A bad `prices` map answers its own stable code, before the rest of the config is looked at. */
function checkPrices(candidate: unknown): void {
  const prices = (candidate as { prices?: unknown } | null)?.prices;
  if (prices === undefined) return;
  const result = v.safeParse(PricesSchema, prices);
  if (result.success) return;
  const issue = result.issues[0];
  const key = issue.path?.[0]?.key;
  const where = typeof key === "string" ? `prices."${key.slice(0, 80)}"` : "prices";
  throw new ApiError(400, "invalid_price", `${where}: ${issue.message}`, { path: where, message: issue.message });
}

export function endpointsFor(config: TenantConfig, origin: string): { path: string; hosts: string[] } {
  return { path: `${origin}/t/${config.slug}/`, hosts: config.hosts.map((h) => `https://${h}/`) };
}

/** The creator's view: the stored config plus the derived price in atomic units and USD. */
export function tenantView(config: TenantConfig, origin: string) {
  const asset = assetFor(config.network, config.asset);
  const priceAtomic = asset ? usdToAtomic(config.priceUsd, asset.decimals) : 0n;
  return {
    ...config,
    price: {
      usd: config.priceUsd,
      atomic: priceAtomic.toString(),
      display: asset ? atomicToUsd(priceAtomic, asset.decimals) : "$0.00",
      asset,
    },
    endpoints: endpointsFor(config, origin),
  };
}
