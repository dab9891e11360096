// Proxy tenants on both backends: our engine in the dispatcher (see proxy/engine.ts for why),
// with the header secrets decrypted once per tenant version and cached per isolate.
import type { TenantConfig } from "../config/tenant-config.ts";
import { readSecrets } from "../control/secrets.ts";
import { runProxy, sharedProxyCache } from "./proxy/engine.ts";
import type { TenantRuntime } from "./runtime.ts";

const secretCache = new Map<string, Promise<Record<string, string>>>();

export class ProxyRuntime implements TenantRuntime {
  constructor(private readonly env: Env) {}

  async fetch(tenant: TenantConfig, request: Request): Promise<Response> {
    const artifact = tenant.resource;
    if (artifact.type !== "proxy") throw new Error("not a proxy tenant");
    // Secrets only change with a deploy, which bumps the version: slug@version is a safe key.
    const key = `${tenant.slug}@${tenant.version}`;
    let secrets = secretCache.get(key);
    if (!secrets) {
      const names = [...new Set(Object.values(artifact.headers).map((h) => h.secret))];
      secrets = readSecrets(this.env, tenant.slug, names);
      secrets.catch(() => secretCache.delete(key));
      if (secretCache.size > 500) secretCache.clear();
      secretCache.set(key, secrets);
    }
    return runProxy(tenant, artifact, request, {
      secrets: await secrets,
      loopbackAllowed: this.env.ALLOW_LOOPBACK_UPSTREAMS === "true",
      fetch: (req) => fetch(req),
      cache: sharedProxyCache,
      now: Date.now(),
    });
  }
}
