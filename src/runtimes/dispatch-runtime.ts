// Workers for Platforms backend (production): one script per tenant in the dispatch namespace,
// run under the plan's CPU and subrequest limits.
import type { TenantConfig } from "../config/tenant-config.ts";
import { tenantRuntimeLimits } from "../config/plans.ts";
import { tenantNotDeployed, tenantWorkerFailure, type TenantRuntime } from "./runtime.ts";

/** Script name in the namespace. One script per tenant; deploys replace it. */
export function scriptNameFor(tenant: Pick<TenantConfig, "slug">): string {
  return `tenant-${tenant.slug}`;
}

export class DispatchRuntime implements TenantRuntime {
  constructor(private readonly namespace: DispatchNamespace) {}

  async fetch(tenant: TenantConfig, request: Request): Promise<Response> {
    const limits = tenantRuntimeLimits(tenant);
    let worker: Fetcher;
    try {
      worker = this.namespace.get(scriptNameFor(tenant), {}, { limits: { cpuMs: limits.cpuMs, subRequests: limits.subRequests } });
    } catch (err) {
      throw isWorkerNotFound(err) ? tenantNotDeployed(tenant.slug) : tenantWorkerFailure(tenant.slug, err);
    }
    try {
      return await worker.fetch(request);
    } catch (err) {
      if (isWorkerNotFound(err)) throw tenantNotDeployed(tenant.slug);
      console.error(`tenant ${tenant.slug} failed`, err);
      throw tenantWorkerFailure(tenant.slug, err);
    }
  }
}

function isWorkerNotFound(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith("Worker not found");
}
