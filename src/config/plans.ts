// Plan table: the per-plan CPU and subrequest limits a tenant's worker runs under (DESIGN §5).
export const PLAN_NAMES = ["free", "pro", "business", "enterprise", "quarantine"] as const;
export type PlanName = (typeof PLAN_NAMES)[number];

export interface RuntimeLimits {
  cpuMs: number;
  subRequests: number;
}

export const PLAN_LIMITS: Readonly<Record<PlanName, RuntimeLimits>> = {
  free: { cpuMs: 50, subRequests: 10 },
  pro: { cpuMs: 200, subRequests: 50 },
  business: { cpuMs: 350, subRequests: 100 },
  enterprise: { cpuMs: 600, subRequests: 250 },
  quarantine: { cpuMs: 25, subRequests: 3 },
};

/** Plan defaults with the tenant's explicit overrides on top. */
export function runtimeLimitsFor(plan: PlanName, overrides?: Partial<RuntimeLimits>): RuntimeLimits {
  return { ...PLAN_LIMITS[plan], ...overrides };
}
