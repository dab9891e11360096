// What a paid tenant accepts: its x402 v2 PaymentRequirements and the 402 challenge built from
// them (docs/ARCHITECTURE.md §6). Pure functions of the tenant config and the request: the price is
// the request's operation's (src/config/prices.ts), else the tenant's default `priceUsd`. A
// usage-priced operation gets `upto` requirements for its ceiling; the facilitator address its
// `extra` needs is added by upto-requirements.ts (it comes from the facilitator's /supported).
import type { PaymentRequired, PaymentRequirements } from "@x402/core/types";
import type { TenantConfig } from "../config/tenant-config.ts";
import { assetFor } from "../config/assets.ts";
import { operationPrice } from "../config/prices.ts";
import { usdToAtomic } from "../../objects/shared/money.ts";

export const MAX_TIMEOUT_SECONDS = 60;

/**
 * Requirements for one call of `method path` (relative to the API root), or null when that call is
 * free. Without a request, the default price's. Throws if a paid tenant is misconfigured.
 */
export function requirementsFor(tenant: TenantConfig, method?: string, path?: string): PaymentRequirements | null {
  const priced = method !== undefined && path !== undefined;
  const { usd, mode } = priced
    ? operationPrice(tenant.prices, tenant.priceUsd, method, path)
    : { usd: tenant.priceUsd, mode: "exact" };
  if (usd <= 0) return null;
  const asset = assetFor(tenant.network, tenant.asset);
  if (!asset || !tenant.payTo) throw new Error(`tenant ${tenant.slug} is paid but has no asset or payTo`);
  const extra: Record<string, unknown> = { name: asset.name, version: asset.version };
  if (mode === "upto") extra.assetTransferMethod = "permit2";
  return {
    scheme: mode,
    network: tenant.network as PaymentRequirements["network"],
    asset: asset.address,
    amount: usdToAtomic(usd, asset.decimals).toString(),
    payTo: tenant.payTo,
    maxTimeoutSeconds: MAX_TIMEOUT_SECONDS,
    extra,
  };
}

/** `extensions` (e.g. `{bazaar}`, ARCHITECTURE §11) is added to the challenge when given. */
export function paymentRequired(
  tenant: TenantConfig,
  requirements: PaymentRequirements,
  resourceUrl: string,
  error: string,
  extensions?: Record<string, unknown>,
): PaymentRequired {
  return {
    x402Version: 2,
    error,
    resource: {
      url: resourceUrl,
      description: tenant.description || `${tenant.slug} on 402claw`,
      mimeType: "application/json",
    },
    accepts: [requirements],
    ...(extensions ? { extensions } : {}),
  };
}
