// The production backend cannot run locally (dispatch namespaces don't exist offline), so this
// checks its contract against a recording stand-in: script name, exact limits, error mapping.
import { describe, expect, it } from "vitest";
import { DispatchRuntime } from "../../src/runtimes/dispatch-runtime.ts";
import { ApiError } from "../../src/http/errors.ts";
import type { TenantConfig } from "../../src/config/tenant-config.ts";

const tenant = {
  slug: "weather",
  plan: "pro",
  resourceType: "dataset",
  resource: { type: "dataset", bytes: 1024 },
} as unknown as TenantConfig;

function namespace(behaviour: (name: string) => Fetcher) {
  const calls: unknown[][] = [];
  const ns = {
    get(name: string, args?: unknown, options?: unknown) {
      calls.push([name, args, options]);
      return behaviour(name);
    },
  } as unknown as DispatchNamespace;
  return { ns, calls };
}

describe("DispatchRuntime", () => {
  it("runs tenant-<slug> under the plan's limits", async () => {
    const { ns, calls } = namespace(
      () => ({ fetch: async (r: Request) => new Response(`hi ${new URL(r.url).pathname}`) }) as unknown as Fetcher,
    );
    const res = await new DispatchRuntime(ns).fetch(tenant, new Request("https://x/v1/records"));
    expect(await res.text()).toBe("hi /v1/records");
    expect(calls).toEqual([
      [
        "tenant-weather",
        {},
        { limits: { cpuMs: 200, subRequests: 50 }, outbound: { slug: "weather", allowedHosts: "[]" } },
      ],
    ]);
  });

  it("maps a missing script to 404 tenant_not_deployed and a crash to 502 tenant_worker_failure", async () => {
    const missing = namespace(() => {
      throw new Error("Worker not found.");
    });
    await expect(new DispatchRuntime(missing.ns).fetch(tenant, new Request("https://x/"))).rejects.toMatchObject({
      status: 404,
      code: "tenant_not_deployed",
    });
    const crashing = namespace(
      () =>
        ({
          fetch: async () => {
            throw new Error("boom");
          },
        }) as unknown as Fetcher,
    );
    const err = await new DispatchRuntime(crashing.ns).fetch(tenant, new Request("https://x/")).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 502, code: "tenant_worker_failure" });
    expect(err.message).not.toContain("boom");
  });
});
