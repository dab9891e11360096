// Worker Loader backend (local dev and tests): tenant code comes from R2 and runs in its own
// isolate, cached by `${slug}@${version}` so a deploy gets a fresh isolate. No network access:
// `globalOutbound: null` makes a plain fetch() from tenant code fail.
import type { TenantConfig } from "../config/tenant-config.ts";
import { tenantRuntimeLimits } from "../config/plans.ts";
import { tenantNotDeployed, tenantWorkerFailure, type TenantRuntime } from "./runtime.ts";
import { ApiError } from "../http/errors.ts";

export const TENANT_COMPATIBILITY_DATE = "2026-10-01";

// The loader rethrows errors from the code callback as plain Errors, so the class is lost; the
// message marker is what survives the trip.
const CODE_MISSING = "tenant code missing:";

export class LoaderRuntime implements TenantRuntime {
  constructor(
    private readonly env: Env,
    private readonly exports: Cloudflare.Exports,
  ) {}

  async fetch(tenant: TenantConfig, request: Request): Promise<Response> {
    const { resource } = tenant;
    const worker = this.env.LOADER.get(`${tenant.slug}@${tenant.version}`, async () => {
      const code = await this.env.ARTIFACTS.get(resource.codeKey);
      if (!code) throw new Error(`${CODE_MISSING} ${resource.codeKey}`);
      return {
        compatibilityDate: TENANT_COMPATIBILITY_DATE,
        mainModule: "worker.js",
        modules: { "worker.js": await code.text() },
        env: { DATASET: this.exports.DatasetStore({ props: { key: resource.dataKey } }) },
        globalOutbound: null,
      };
    });
    const limits = tenantRuntimeLimits(tenant);
    try {
      return await worker.getEntrypoint(undefined, { limits }).fetch(request);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (String(err).includes(CODE_MISSING)) throw tenantNotDeployed(tenant.slug);
      console.error(`tenant ${tenant.slug}@${tenant.version} failed`, err);
      throw tenantWorkerFailure(tenant.slug, err);
    }
  }
}
