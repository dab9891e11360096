// Plan table: the per-plan CPU and subrequest limits a tenant's worker runs under (docs/ARCHITECTURE.md §5).
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

const MIB = 1024 * 1024;

/**
 * Limits a tenant's isolate runs under. Dataset tenants run our own engine (not creator code),
 * and a cold isolate must parse the whole dataset (~10 ms CPU per MB) before its first answer;
 * under the free plan's 50 ms that could never warm up, so datasets get at least enough CPU for
 * their size. Creator code (functions, proxies) gets exactly its plan.
 */
export function tenantRuntimeLimits(tenant: {
  plan: PlanName;
  limits?: Partial<RuntimeLimits> | undefined;
  resource: { type: string; bytes?: number };
}): RuntimeLimits {
  const limits = runtimeLimitsFor(tenant.plan, tenant.limits);
  if (tenant.resource.type !== "dataset" || tenant.plan === "quarantine") return limits;
  const datasetFloor = 100 + Math.ceil((tenant.resource.bytes ?? 0) / MIB) * 30;
  return { ...limits, cpuMs: Math.max(limits.cpuMs, datasetFloor) };
}
