// Proxy tenants on both backends: our engine in the dispatcher (see proxy/engine.ts for why),
// with the header secrets decrypted once per tenant version and cached per isolate.
// Dev allowance: with ALLOW_LOOPBACK_UPSTREAMS=true and a proxy's allowLoopback, an upstream on a
// loopback platform host AND the same host:port this request came in on (i.e. this dispatcher,
// e.g. http://localhost/t/other-tenant) is served in-process (ctx.exports.default), so a local
// proxy can front another local tenant without a network listener. Any other loopback upstream
// (another port: a real local server) is fetched over the network. Hop depth is capped, so a
// proxy pointed at itself ends with 508.
import type { TenantConfig } from "../config/tenant-config.ts";
import { ApiError, errorResponse } from "../http/errors.ts";
import { readSecrets } from "../secrets/tenant-secrets.ts";
import { configOf } from "../config/env.ts";
import { runProxy, sharedProxyCache } from "./proxy/engine.ts";
import { checkUpstreamUrl } from "./proxy/ssrf.ts";
import type { TenantRuntime } from "./runtime.ts";

const secretCache = new Map<string, Promise<Record<string, string>>>();
export const PROXY_DEPTH_HEADER = "x-claw-proxy-depth";
const MAX_DEPTH = 3;

export class ProxyRuntime implements TenantRuntime {
  constructor(
    private readonly env: Env,
    private readonly exports: Cloudflare.Exports | undefined,
  ) {}

  async fetch(tenant: TenantConfig, request: Request): Promise<Response> {
    const artifact = tenant.resource;
    if (artifact.type !== "proxy") throw new Error("not a proxy tenant");
    const depth = Number(request.headers.get(PROXY_DEPTH_HEADER) ?? "0") || 0;
    if (depth >= MAX_DEPTH)
      return errorResponse(
        new ApiError(508, "proxy_loop", "the proxy chain is too deep (a proxy points back at itself?)"),
        request.headers.get("x-request-id") ?? "",
      );
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
    const { allowLoopbackUpstreams: loopbackAllowed, platformHosts } = configOf(this.env);
    const ownHost = new URL(request.url).host;
    return runProxy(tenant, artifact, request, {
      secrets: await secrets,
      loopbackAllowed,
      fetch: (req) => {
        const target = new URL(req.url);
        const inProcess =
          loopbackAllowed &&
          artifact.allowLoopback &&
          this.exports &&
          target.host === ownHost &&
          platformHosts.has(target.hostname.toLowerCase()) &&
          !checkUpstreamUrl(target).ok;
        if (!inProcess) return fetch(req);
        const hop = new Request(req);
        hop.headers.set(PROXY_DEPTH_HEADER, String(depth + 1));
        return this.exports!.default.fetch(hop);
      },
      cache: sharedProxyCache,
      now: Date.now(),
    });
  }
}
