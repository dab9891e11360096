// Picks the tenant backend for this deployment: Worker Loader locally, dispatch namespace in production.
import type { TenantRuntime } from "./runtime.ts";
import { LoaderRuntime } from "./loader-runtime.ts";
import { DispatchRuntime } from "./dispatch-runtime.ts";

export function selectRuntime(env: Env, ctx: ExecutionContext): TenantRuntime {
  if (env.RUNTIME_BACKEND === "dispatch") {
    if (!env.DISPATCHER) throw new Error("RUNTIME_BACKEND=dispatch needs the DISPATCHER dispatch namespace binding");
    return new DispatchRuntime(env.DISPATCHER);
  }
  return new LoaderRuntime(env, ctx.exports);
}
