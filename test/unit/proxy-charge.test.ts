// A proxy's charge rule (src/runtimes/proxy/charge-rule.ts): the upstream's answer is outside
// input, so whatever header or body it sends, the rule never throws and reports either nothing or
// a USD decimal the dispatcher's charge parser reads exactly; the rule's schema refuses bad paths.
import fc from "fast-check";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { chargeFromUpstream, chargeNeedsBody } from "../../src/runtimes/proxy/charge-rule.ts";
import { ProxyChargeSchema } from "../../src/config/tenant-config.ts";
import { usdDecimalToAtomic } from "../../src/payments/charge.ts";

describe("proxy charge rule", () => {
  it("copies a header rule's value and multiplies a JSON-path rule's number by the unit price", () => {
    const headers = new Headers({ "x-cost-usd": " 0.0042 " });
    expect(chargeFromUpstream({ header: "x-cost-usd" }, headers, null)).toBe("0.0042");
    expect(chargeFromUpstream({ header: "x-other" }, headers, null)).toBeNull();
    const rule = { jsonPath: "usage.total_tokens", unitUsd: 0.000002 };
    expect(chargeNeedsBody(rule)).toBe(true);
    const body = JSON.stringify({ usage: { total_tokens: 1234 } });
    const charge = chargeFromUpstream(rule, headers, body);
    // 1234 × 0.000002 = 0.002468 exactly at 6 decimals, float noise cleared.
    expect(usdDecimalToAtomic(charge!, 6)).toBe(2468n);
    for (const bad of ["{}", "[1]", "not json", JSON.stringify({ usage: { total_tokens: "12" } })]) {
      expect(chargeFromUpstream(rule, headers, bad), bad).toBeNull();
    }
    expect(chargeFromUpstream(rule, headers, JSON.stringify({ usage: { total_tokens: -1 } }))).toBeNull();
  });

  it("never throws on any upstream body, and what it reports is a charge the dispatcher can read", () => {
    const rule = { jsonPath: "a.b", unitUsd: 0.001 };
    const bodies = fc.oneof(
      fc.string(),
      fc.json(),
      fc.double().map((n) => JSON.stringify({ a: { b: n } })),
      fc.nat().map((n) => JSON.stringify({ a: { b: n } })),
    );
    fc.assert(
      fc.property(bodies, (body) => {
        const charge = chargeFromUpstream(rule, new Headers(), body);
        if (charge !== null) expect(usdDecimalToAtomic(charge, 6)).not.toBeNull();
      }),
    );
  });

  it("the schema takes a header or a dotted path with a unit price, nothing else", () => {
    expect(v.safeParse(ProxyChargeSchema, { header: "x-cost" }).success).toBe(true);
    expect(v.safeParse(ProxyChargeSchema, { jsonPath: "usage.tokens", unitUsd: 0.00001 }).success).toBe(true);
    for (const bad of [{}, { header: "a b" }, { jsonPath: "a..b", unitUsd: 1 }, { jsonPath: "a", unitUsd: -1 }]) {
      expect(v.safeParse(ProxyChargeSchema, bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
