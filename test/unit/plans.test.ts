import { describe, expect, it } from "vitest";
import { PLAN_LIMITS, runtimeLimitsFor, tenantRuntimeLimits } from "../../src/config/plans.ts";

describe("runtime limits", () => {
  it("uses the plan table with overrides on top", () => {
    expect(runtimeLimitsFor("free")).toEqual({ cpuMs: 50, subRequests: 10 });
    expect(runtimeLimitsFor("enterprise")).toEqual({ cpuMs: 600, subRequests: 250 });
    expect(runtimeLimitsFor("pro", { cpuMs: 100 })).toEqual({ cpuMs: 100, subRequests: 50 });
  });
  it("gives dataset engines enough CPU to load their data, but never lifts quarantine", () => {
    const tenMb = { type: "dataset", bytes: 10 * 1024 * 1024 };
    expect(tenantRuntimeLimits({ plan: "free", resource: tenMb }).cpuMs).toBe(400);
    expect(tenantRuntimeLimits({ plan: "free", resource: tenMb }).subRequests).toBe(PLAN_LIMITS.free.subRequests);
    expect(tenantRuntimeLimits({ plan: "enterprise", resource: { type: "dataset", bytes: 1000 } }).cpuMs).toBe(600);
    expect(tenantRuntimeLimits({ plan: "quarantine", resource: tenMb })).toEqual(PLAN_LIMITS.quarantine);
    expect(tenantRuntimeLimits({ plan: "free", resource: { type: "function" } })).toEqual(PLAN_LIMITS.free);
  });
});
