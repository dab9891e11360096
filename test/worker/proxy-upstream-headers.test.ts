// Issue 13 item 7: a proxy never passes the upstream's rate-limit headers off as ours. The
// upstream is a real 402claw function tenant with its own meter limits (so it answers with the
// platform's RateLimit headers, as a wrapped API would) plus headers of its own; the proxy has
// different limits, and the caller must see the proxy's as `RateLimit*` and the upstream's only
// under `x-upstream-*`. Retry-After stays on 429/503 only.
import { beforeAll, describe, expect, it } from "vitest";
import { upstreamHeaderName } from "../../src/runtimes/proxy/upstream-headers.ts";
import { auth, call, createCreator, uniqueSlug } from "./helpers.ts";

const UPSTREAM = `export default async (req) => {
  const status = Number(new URL(req.url).searchParams.get("status") ?? "200");
  return new Response("{}", { status, headers: { "content-type": "application/json", "x-ratelimit-remaining": "3",
    "ratelimit-limit": "50", "x-rate-limit-reset": "9", "x-usage-daily-remaining": "1", "retry-after": "7" } });
};`;

let key: string;
let proxy: string;

async function deploy(slug: string, form: FormData): Promise<void> {
  const res = await call(`/v1/tenants/${slug}/deployments`, { method: "POST", headers: auth(key), body: form });
  if (res.status !== 201) throw new Error(`deploy ${slug}: ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  key = (await createCreator("Proxy Header Creator")).key;
  const upstream = uniqueSlug("rlup");
  const form = new FormData();
  form.set("code", new File([UPSTREAM], "up.js"));
  form.set(
    "config",
    JSON.stringify({ resource: { type: "function" }, rateLimit: { global: { requests: 77, windowSeconds: 60 } } }),
  );
  await deploy(upstream, form);
  proxy = uniqueSlug("rlpx");
  const proxyForm = new FormData();
  const resource = { type: "proxy", allowLoopback: true, upstream: `http://localhost/t/${upstream}` };
  proxyForm.set("config", JSON.stringify({ resource, rateLimit: { global: { requests: 10, windowSeconds: 60 } } }));
  await deploy(proxy, proxyForm);
});

describe("upstream rate-limit headers through a proxy", () => {
  it("renames the upstream's to x-upstream-* and shows only ours as RateLimit", async () => {
    const res = await call(`/t/${proxy}/x`, { headers: { "cf-connecting-ip": "198.51.100.7" } });
    expect(res.status).toBe(200);
    // Ours: the proxy's own bucket of 10.
    expect(res.headers.get("x-ratelimit-limit")).toBe("10");
    expect(res.headers.get("ratelimit-policy")).toContain("q=10");
    // Theirs: the upstream tenant's meter (77) and its own headers, renamed.
    expect(res.headers.get("x-upstream-ratelimit-policy")).toContain("q=77");
    expect(res.headers.get("x-upstream-ratelimit-limit")).toContain("77");
    // The upstream's meter overwrote the function's own x-ratelimit-remaining with its count of 77.
    expect(Number(res.headers.get("x-upstream-ratelimit-remaining"))).toBeGreaterThan(10);
    expect(Number(res.headers.get("x-ratelimit-remaining"))).toBeLessThan(10);
    expect(res.headers.get("x-upstream-rate-limit-reset")).toBe("9");
    expect(res.headers.get("x-upstream-usage-daily-remaining")).toBe("1");
    expect(res.headers.get("x-usage-daily-remaining")).toBeNull();
    expect(res.headers.get("retry-after")).toBeNull();
    expect(res.headers.get("x-upstream-retry-after")).toBe("7");
  });

  it("keeps Retry-After on the upstream's own 429 and 503", async () => {
    for (const status of [429, 503]) {
      const res = await call(`/t/${proxy}/x?status=${status}`, { headers: { "cf-connecting-ip": "198.51.100.8" } });
      expect(res.status).toBe(status);
      expect(res.headers.get("retry-after")).toBe("7");
      expect(res.headers.get("x-upstream-ratelimit-limit")).toContain("77");
    }
  });

  it("the rule, name by name", () => {
    expect(upstreamHeaderName("RateLimit", 200)).toBe("x-upstream-ratelimit");
    expect(upstreamHeaderName("RateLimit-Policy", 200)).toBe("x-upstream-ratelimit-policy");
    expect(upstreamHeaderName("X-RateLimit-Reset", 429)).toBe("x-upstream-ratelimit-reset");
    expect(upstreamHeaderName("Retry-After", 301)).toBe("x-upstream-retry-after");
    expect(upstreamHeaderName("Retry-After", 503)).toBe("retry-after");
    expect(upstreamHeaderName("Set-Cookie", 200)).toBeNull();
    expect(upstreamHeaderName("X-Ratelimited-By", 200)).toBe("x-ratelimited-by");
    expect(upstreamHeaderName("Content-Type", 200)).toBe("content-type");
  });
});
