// Workers for Platforms backend (production): one script per tenant in the dispatch namespace,
// run under the plan's CPU and subrequest limits. A function script is our wrapper + the creator's
// instrumented module (as in loader-runtime.ts), uploaded with the outbound Worker enforcing
// allowedHosts; its failure markers and maxDuration are handled here the same way.
import type { TenantConfig } from "../config/tenant-config.ts";
import { tenantRuntimeLimits } from "../config/plans.ts";
import { tenantNotDeployed, tenantWorkerFailure, type TenantRuntime } from "./runtime.ts";
import { ApiError } from "../http/errors.ts";
import { functionOutcome, tenantTimeout } from "./loader-runtime.ts";
import { raceTimeout } from "./timeout.ts";

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
      worker = this.namespace.get(
        scriptNameFor(tenant),
        {},
        { limits: { cpuMs: limits.cpuMs, subRequests: limits.subRequests }, outbound: outboundParams(tenant) },
      );
    } catch (err) {
      throw isWorkerNotFound(err) ? tenantNotDeployed(tenant.slug) : tenantWorkerFailure(tenant.slug, err);
    }
    const { resource } = tenant;
    try {
      if (resource.type !== "function") return await worker.fetch(request);
      const overrun = () => tenantTimeout(tenant.slug, resource.maxDurationMs);
      const answer = await raceTimeout(worker.fetch(request), resource.maxDurationMs, overrun);
      return await functionOutcome(tenant, resource, answer);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (isWorkerNotFound(err)) throw tenantNotDeployed(tenant.slug);
      console.error(`tenant ${tenant.slug} failed`, err);
      throw tenantWorkerFailure(tenant.slug, err);
    }
  }
}

/** What the outbound Worker (src/outbound/) enforces for this call: only functions may reach out. */
export function outboundParams(tenant: TenantConfig): { slug: string; allowedHosts: string } {
  const hosts = tenant.resource.type === "function" ? tenant.resource.allowedHosts : [];
  return { slug: tenant.slug, allowedHosts: JSON.stringify(hosts) };
}

function isWorkerNotFound(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith("Worker not found");
}
