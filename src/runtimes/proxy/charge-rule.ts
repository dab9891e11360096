// A proxy's charge rule (README "Pricing"; docs/ARCHITECTURE.md §5): the declarative way a proxy
// reports a usage-priced (upto) call's actual charge, as the X-Claw-Charge header the dispatcher
// reads (src/payments/charge.ts) like a function's. Either an upstream response header that
// carries a USD amount, or a number at a dotted path of the upstream's JSON body times a USD unit
// price. A value that is not there (or not a non-negative number) reports nothing: the dispatcher
// then charges nothing and records the tenant error. Pure.
import type { ProxyCharge } from "../../config/tenant-config.ts";

/** Whether the rule needs the upstream's body (JSON path) rather than a header only. */
export function chargeNeedsBody(rule: ProxyCharge | undefined): boolean {
  return rule !== undefined && "jsonPath" in rule;
}

function valueAt(json: unknown, path: string): unknown {
  let at: unknown = json;
  for (const part of path.split(".")) {
    if (typeof at !== "object" || at === null || Array.isArray(at) || !Object.hasOwn(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/**
 * The X-Claw-Charge value (USD decimal) the rule reads from the upstream's answer, or null. The
 * product is written with 12 decimals (clearing float noise like 0.0024679999…); the dispatcher
 * then rounds it down to the asset's precision.
 */
export function chargeFromUpstream(rule: ProxyCharge, headers: Headers, bodyText: string | null): string | null {
  if ("header" in rule) return headers.get(rule.header)?.trim() || null;
  if (bodyText === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch {
    return null;
  }
  const value = valueAt(json, rule.jsonPath);
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return null;
  const usd = value * rule.unitUsd;
  return Number.isFinite(usd) && usd < 1e15 ? usd.toFixed(12) : null;
}
