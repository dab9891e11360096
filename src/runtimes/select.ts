// Picks the tenant backend for this deployment: Worker Loader locally, dispatch namespace in
// production. Proxies are platform code and run in the dispatcher on both (proxy-runtime.ts).
// Whichever runs, the request body is first read whole under the tenant body limit.
import { withBoundedBody, type TenantRuntime } from "./runtime.ts";
import { configOf } from "../config/env.ts";
import { LoaderRuntime } from "./loader-runtime.ts";
import { DispatchRuntime } from "./dispatch-runtime.ts";
import { ProxyRuntime } from "./proxy-runtime.ts";

export function selectRuntime(env: Env, ctx: ExecutionContext): TenantRuntime {
  let backend: TenantRuntime;
  if (configOf(env).runtimeBackend === "dispatch") {
    if (!env.DISPATCHER) throw new Error("RUNTIME_BACKEND=dispatch needs the DISPATCHER dispatch namespace binding");
    backend = new DispatchRuntime(env.DISPATCHER);
  } else backend = new LoaderRuntime(env, ctx.exports);
  const proxy = new ProxyRuntime(env, ctx.exports);
  return {
    // Every backend gets the body read whole under the limit, before any tenant work.
    fetch: async (tenant, request) => {
      const bounded = await withBoundedBody(request);
      return tenant.resource.type === "proxy" ? proxy.fetch(tenant, bounded) : backend.fetch(tenant, bounded);
    },
  };
}
