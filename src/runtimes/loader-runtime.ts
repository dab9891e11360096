// Worker Loader backend (local dev and tests): tenant code comes from R2 and runs in its own
// isolate, cached by `${slug}@${version}` so a deploy gets a fresh isolate.
// - dataset: our engine; no network (`globalOutbound: null`), data through the DatasetStore RPC.
// - function: our wrapper + the creator's instrumented module; env = the exposeEnv secrets only;
//   every fetch() goes through the EgressGateway (allowedHosts); maxDuration is enforced by the
//   instrumented budget (CPU) and by the timeout race of timeout.ts (I/O waits).
import type { FunctionArtifact, TenantConfig } from "../config/tenant-config.ts";
import { tenantRuntimeLimits } from "../config/plans.ts";
import { tenantNotDeployed, tenantWorkerFailure, type TenantRuntime } from "./runtime.ts";
import { ApiError } from "../http/errors.ts";
import { readSecrets } from "../secrets/tenant-secrets.ts";
import { BUDGET_MODULE, BUDGET_SOURCE, USER_MODULE, ticksFor, wrapperSource } from "./function/instrument.ts";
import { TENANT_COMPATIBILITY_DATE } from "../config/compat.ts";
import { raceTimeout } from "./timeout.ts";

export { TENANT_COMPATIBILITY_DATE };

const WRAPPER_MODULE = "claw-wrapper.js";

// The loader rethrows errors from the code callback as plain Errors, so the class is lost; the
// message marker is what survives the trip.
const CODE_MISSING = "tenant code missing:";

export function tenantTimeout(slug: string, maxDurationMs: number): ApiError {
  return new ApiError(
    504,
    "tenant_timeout",
    `the function of tenant '${slug}' was ended: it ran past its maxDuration (${maxDurationMs} ms) or its plan's CPU budget`,
  );
}

/** Maps the wrapper's failure marker to our errors; passes the creator's responses through. */
export async function functionOutcome(
  tenant: TenantConfig,
  artifact: FunctionArtifact,
  response: Response,
): Promise<Response> {
  const failure = response.headers.get("x-claw-failure");
  if (!failure) return response;
  await response.body?.cancel();
  if (failure === "tenant_timeout") throw tenantTimeout(tenant.slug, artifact.maxDurationMs);
  throw tenantWorkerFailure(tenant.slug, failure);
}

export class LoaderRuntime implements TenantRuntime {
  constructor(
    private readonly env: Env,
    private readonly exports: Cloudflare.Exports,
  ) {}

  async fetch(tenant: TenantConfig, request: Request): Promise<Response> {
    const { resource } = tenant;
    if (resource.type === "proxy")
      throw new Error("proxies run in the dispatcher (select.ts), not in a loaded isolate");
    const limits = tenantRuntimeLimits(tenant);
    const worker = this.env.LOADER.get(
      `${tenant.slug}@${tenant.version}`,
      async (): Promise<WorkerLoaderWorkerCode> => {
        const code = await this.env.ARTIFACTS.get(resource.codeKey);
        if (!code) throw new Error(`${CODE_MISSING} ${resource.codeKey}`);
        if (resource.type === "function") {
          return {
            compatibilityDate: TENANT_COMPATIBILITY_DATE,
            mainModule: WRAPPER_MODULE,
            modules: {
              // Local workerd does not enforce cpuMs, so the budget stands in for it too.
              [WRAPPER_MODULE]: wrapperSource(ticksFor(Math.min(resource.maxDurationMs, limits.cpuMs))),
              [BUDGET_MODULE]: BUDGET_SOURCE,
              [USER_MODULE]: await code.text(),
            },
            // Exactly the exposed secrets: nothing of the platform's env reaches creator code.
            env: await readSecrets(this.env, tenant.slug, resource.exposeEnv),
            globalOutbound: this.exports.EgressGateway({
              props: { slug: tenant.slug, allowedHosts: resource.allowedHosts },
            }),
          };
        }
        return {
          compatibilityDate: TENANT_COMPATIBILITY_DATE,
          mainModule: "worker.js",
          modules: { "worker.js": await code.text() },
          env: { DATASET: this.exports.DatasetStore({ props: { key: resource.dataKey } }) },
          globalOutbound: null,
        };
      },
    );
    try {
      const call = worker.getEntrypoint(undefined, { limits }).fetch(request);
      if (resource.type !== "function") return await call;
      const overrun = () => tenantTimeout(tenant.slug, resource.maxDurationMs);
      const answer = await raceTimeout(call, resource.maxDurationMs, overrun);
      return await functionOutcome(tenant, resource, answer);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (String(err).includes(CODE_MISSING)) throw tenantNotDeployed(tenant.slug);
      console.error(`tenant ${tenant.slug}@${tenant.version} failed`, err);
      throw tenantWorkerFailure(tenant.slug, err);
    }
  }
}
