// Raw telemetry of a finished call (docs/ARCHITECTURE.md §14 "Raw telemetry"): called once per
// recorded call from the gateway's one recording site (src/gateway/call.ts `record`). Synchronous
// and never awaited: in production `writeDataPoint` on the TELEMETRY Analytics Engine binding
// (non-blocking by design, no I/O on the call's path), elsewhere a push into the local sink's
// buffer (local-sink.ts). A failure here is logged and never reaches the caller.
import { assetFor } from "../config/assets.ts";
import { priceOf } from "../config/prices.ts";
import type { TenantConfig } from "../config/tenant-config.ts";
import type { CallContext } from "../gateway/context.ts";
import type { UsageRecord } from "../../objects/meter/types.ts";
import { usdToAtomic } from "../../objects/shared/money.ts";
import { type CallTelemetry, dataPointOf } from "./data-point.ts";
import { pushLocal } from "./local-sink.ts";

/** The cut-down request facts telemetry needs (the method and the tenant path, no query). */
export interface CallFacts {
  method: string;
  path: string;
}

export function recordTelemetry(call: CallContext, tenant: TenantConfig, facts: CallFacts, usage: UsageRecord): void {
  try {
    const point = dataPointOf(telemetryOf(call, tenant, facts, usage));
    const dataset = call.env.TELEMETRY;
    if (dataset) dataset.writeDataPoint(point);
    else pushLocal(call.env, call.ctx, point);
  } catch (err) {
    console.error(`telemetry for ${call.requestId} not recorded`, err);
  }
}

export function telemetryOf(call: CallContext, tenant: TenantConfig, facts: CallFacts, usage: UsageRecord) {
  const price = priceOf(tenant.prices, tenant.priceUsd, facts.method, facts.path);
  const asset = price.usd > 0 ? assetFor(tenant.network, tenant.asset) : null;
  const telemetry: CallTelemetry = {
    requestId: usage.requestId,
    apiId: tenant.slug,
    owner: tenant.owner,
    directory: tenant.directory,
    caller: usage.caller,
    lifecycle: usage.outcome,
    env: call.config.deployEnv,
    network: tenant.network,
    facilitator: asset ? facilitatorHost(call.config.facilitatorUrl) : "",
    transport: call.transport ?? "http",
    operation: price.pattern ?? `${facts.method} ${facts.path}`,
    priceAtomic: asset ? usdToAtomic(price.usd, asset.decimals).toString() : "0",
    ts: usage.ts,
    status: usage.status,
    latencyMs: usage.latencyMs,
  };
  return telemetry;
}

// The facilitator URL is a secret (it may carry a key): only its host is recorded.
let hostMemo: { url: string; host: string } | null = null;

function facilitatorHost(url: string | null): string {
  if (!url) return "";
  if (hostMemo?.url !== url) hostMemo = { url, host: new URL(url).host };
  return hostMemo.host;
}
