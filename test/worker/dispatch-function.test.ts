// The production backend's function contract against a stand-in namespace: the wrapper's failure
// markers map to 504 tenant_timeout / 502 tenant_worker_failure, and maxDuration ends slow calls.
import { describe, expect, it } from "vitest";
import { DispatchRuntime } from "../../src/runtimes/dispatch-runtime.ts";
import type { TenantConfig } from "../../src/config/tenant-config.ts";

const fn = (maxDurationMs: number) =>
  ({
    slug: "fn-prod",
    plan: "pro",
    resourceType: "function",
    resource: {
      type: "function",
      maxDurationMs,
      allowedHosts: [],
      exposeEnv: [],
      bytes: 1,
      sha256: "0".repeat(64),
      codeKey: "k",
    },
  }) as unknown as TenantConfig;

const ns = (fetch: (r: Request) => Promise<Response>) => ({ get: () => ({ fetch }) }) as unknown as DispatchNamespace;

describe("DispatchRuntime with functions", () => {
  it("maps the wrapper's markers and passes normal responses", async () => {
    const ok = await new DispatchRuntime(ns(async () => new Response("fine"))).fetch(
      fn(1000),
      new Request("https://x/"),
    );
    expect(await ok.text()).toBe("fine");
    const timeout = ns(async () => new Response("t", { status: 504, headers: { "x-claw-failure": "tenant_timeout" } }));
    await expect(new DispatchRuntime(timeout).fetch(fn(1000), new Request("https://x/"))).rejects.toMatchObject({
      status: 504,
      code: "tenant_timeout",
    });
    const failure = ns(
      async () => new Response("f", { status: 502, headers: { "x-claw-failure": "tenant_worker_failure" } }),
    );
    await expect(new DispatchRuntime(failure).fetch(fn(1000), new Request("https://x/"))).rejects.toMatchObject({
      status: 502,
      code: "tenant_worker_failure",
    });
  });

  it("ends a call that outlives maxDuration", async () => {
    const slow = ns(() => new Promise((resolve) => setTimeout(() => resolve(new Response("late")), 5_000)));
    const started = Date.now();
    await expect(new DispatchRuntime(slow).fetch(fn(100), new Request("https://x/"))).rejects.toMatchObject({
      status: 504,
      code: "tenant_timeout",
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
