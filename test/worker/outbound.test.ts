// The production outbound Worker (Workers for Platforms): the same egress rule as the local
// gateway, with the parameters DispatchRuntime sets. The internet cannot exist offline, so the
// forwarding step is a recording stand-in; every refusal is decided before it is reached.
import { describe, expect, it } from "vitest";
import { handleOutbound, type OutboundParams } from "../../src/outbound/index.ts";
import { outboundParams } from "../../src/runtimes/dispatch-runtime.ts";
import type { TenantConfig } from "../../src/config/tenant-config.ts";

function recorder() {
  const seen: Request[] = [];
  return { seen, forward: async (request: Request) => (seen.push(request), new Response("upstream ok")) };
}

describe("outbound Worker", () => {
  const fn = {
    slug: "weather",
    resource: { type: "function", allowedHosts: ["api.example.com"] },
  } as unknown as TenantConfig;
  const params = outboundParams(fn);

  it("lets a function reach its allowedHosts, without following redirects", async () => {
    const { seen, forward } = recorder();
    const res = await handleOutbound(
      new Request("https://api.example.com/v1?q=1", { headers: { accept: "application/json" } }),
      params,
      forward,
    );
    expect(await res.text()).toBe("upstream ok");
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe("https://api.example.com/v1?q=1");
    expect(seen[0]!.redirect).toBe("manual");
  });

  it("refuses other hosts, private targets and tenants without allowedHosts, before any request leaves", async () => {
    const { seen, forward } = recorder();
    const denied = async (url: string, p: OutboundParams = params) => {
      const res = await handleOutbound(new Request(url), p, forward);
      expect(res.status, url).toBe(403);
      expect(res.headers.get("x-claw-egress")).toBe("denied");
      expect(((await res.json()) as any).error.code).toBe("egress_denied");
    };
    await denied("https://evil.example.com/");
    await denied("http://169.254.169.254/latest/meta-data/");
    await denied("http://127.0.0.1:8787/health");
    await denied("http://10.0.0.1/");
    const dataset = outboundParams({ slug: "cities", resource: { type: "dataset" } } as unknown as TenantConfig);
    expect(dataset).toEqual({ slug: "cities", allowedHosts: "[]" });
    await denied("https://api.example.com/", dataset);
    await denied("https://api.example.com/", {});
    await denied("https://api.example.com/", { allowedHosts: "not json" });
    expect(seen).toHaveLength(0);
  });
});
