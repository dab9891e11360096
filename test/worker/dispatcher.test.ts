// Routing, request ids, error envelope and dataset queries through the real dispatcher and
// the Worker Loader runtime.
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { auth, call, CITIES_CSV, createCreator, deployOk, expectError, uniqueSlug } from "./helpers.ts";

let slug: string;
let host: string;
let key: string;

beforeAll(async () => {
  const creator = await createCreator();
  key = creator.key;
  slug = uniqueSlug("route");
  host = `${slug}.example.net`;
  await deployOk(key, slug, CITIES_CSV, { config: { hosts: [host] } });
});

describe("platform routes", () => {
  it("answers /health with a request id", async () => {
    const res = await call("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true });
    expect(res.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
  });

  it("mints its own request id, ignoring the caller's", async () => {
    const res = await call("/health", { headers: { "x-request-id": "req_spoofed" } });
    expect(res.headers.get("x-request-id")).not.toBe("req_spoofed");
  });

  it("answers unknown routes and tenants with the JSON envelope", async () => {
    await expectError(await call("/nope"), 404, "route_not_found");
    await expectError(await call("/t/no-such-tenant/v1/records"), 404, "tenant_not_found");
    await expectError(await call("/v1/records", { host: "unknown.example.com" }), 404, "unknown_host");
    await expectError(await call("/t/%E0%A4%A/v1"), 400, "invalid_slug");
  });
});

describe("tenant routing", () => {
  it("strips /t/:slug and keeps the query", async () => {
    const res = await call(`/t/${slug}/v1/records?country=FR&sort=-population&fields=city,population`);
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body.items).toEqual([
      { city: "Paris", population: 2161000 },
      { city: "Lyon", population: 513275 },
    ]);
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("gives a custom host all of its paths, even platform-looking ones", async () => {
    const records = await call("/v1/records?limit=2", { host });
    expect(records.status).toBe(200);
    expect((await records.json<any>()).items).toHaveLength(2);
    const health = await call("/health", { host });
    expect(await health.json()).toMatchObject({ ok: true, rows: 5 });
    // /v1/tenants on a tenant host is the tenant's path, not the control plane.
    await expectError(await call("/v1/tenants", { host, headers: auth(key) }), 404, "not_found");
  });

  it("serves schema and records by id", async () => {
    const schema = await (await call(`/t/${slug}/v1/schema`)).json<any>();
    expect(schema.fields.map((f: any) => [f.name, f.type])).toEqual([
      ["id", "integer"],
      ["city", "string"],
      ["country", "string"],
      ["population", "integer"],
      ["capital", "boolean"],
    ]);
    expect(await (await call(`/t/${slug}/v1/records/3`)).json()).toMatchObject({ id: 3, city: "Berlin" });
  });

  it("turns bad query input into 4xx JSON errors", async () => {
    await expectError(await call(`/t/${slug}/v1/records?limit=-1`), 400, "invalid_parameter");
    await expectError(await call(`/t/${slug}/v1/records?limit=1001`), 400, "invalid_parameter");
    await expectError(await call(`/t/${slug}/v1/records?nosuchfield=1`), 400, "unknown_field");
    await expectError(await call(`/t/${slug}/v1/records?sort=nosuch`), 400, "unknown_field");
    await expectError(await call(`/t/${slug}/v1/records?population=many`), 400, "invalid_filter");
    for (const id of ["..%2F..%2Fetc%2Fpasswd", "..%5C..%5Cwindows", "9999", "%00", "%252e%252e"]) {
      await expectError(await call(`/t/${slug}/v1/records/${id}`), 404, "record_not_found");
    }
    // Dot segments are resolved by URL parsing before any lookup: they climb out of /records.
    for (const id of ["..", "%2e%2e"]) {
      await expectError(await call(`/t/${slug}/v1/records/${id}`), 404, "not_found");
    }
    await expectError(await call(`/t/${slug}/v1/records/../../../etc/passwd`), 404, "tenant_not_found");
    await expectError(await call(`/t/${slug}/v1/records`, { method: "POST", body: "{}" }), 405, "method_not_allowed");
  });

  it("does not pass platform credentials to tenant code", async () => {
    // The dataset engine echoes nothing, so check the request the runtime builds instead.
    const { tenantRequest } = await import("../../src/runtimes/runtime.ts");
    const forwarded = tenantRequest(
      new Request("https://x.example/t/a/v1?q=1", {
        headers: {
          authorization: "Bearer k",
          cookie: "s=1",
          "payment-signature": "p",
          "cf-connecting-ip": "1.2.3.4",
          accept: "application/json",
        },
      }),
      "/v1",
      "req_1",
    );
    expect([...forwarded.headers.keys()].sort()).toEqual(["accept", "x-request-id"]);
    expect(forwarded.url).toBe("https://x.example/v1?q=1");
  });

  it("adds rate-limit headers from the meter to tenant responses", async () => {
    const limited = uniqueSlug("hdr");
    await deployOk(key, limited, CITIES_CSV, {
      config: { rateLimit: { perCaller: { requests: 10, windowSeconds: 60 } }, usageLimit: { dailyRequests: 1000 } },
    });
    const res = await call(`/t/${limited}/v1/records`, { headers: { "cf-connecting-ip": "203.0.113.9" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit-policy")).toContain("q=10");
    expect(res.headers.get("x-ratelimit-limit")).toBe("10");
    expect(res.headers.get("x-ratelimit-remaining")).toBe("9");
    expect(res.headers.get("x-usage-daily-limit")).toBe("1000");
    expect(res.headers.get("x-usage-daily-remaining")).toBe("999");
  });

  it("heals a meter that lost its config", async () => {
    const fresh = uniqueSlug("heal");
    await deployOk(key, fresh, CITIES_CSV);
    // Simulate a meter that never got the push by wiping its storage.
    const { evictDurableObject, runInDurableObject } = await import("cloudflare:test");
    const stub = env.TENANT_METER.get(env.TENANT_METER.idFromName(fresh));
    await runInDurableObject(stub, async (_instance, state) => {
      await state.storage.deleteAll();
    });
    await evictDurableObject(stub);
    const unconfigured = await (stub as any).admit({ caller: "probe", now: Date.now() });
    expect(unconfigured).toMatchObject({ ok: false, code: "tenant_not_configured" });
    const res = await call(`/t/${fresh}/v1/records`);
    expect(res.status).toBe(200);
    expect(await (stub as any).admit({ caller: "probe", now: Date.now() })).toMatchObject({ ok: true });
  });

  it("maps a crashing tenant worker to 502 and missing code to 404, with the JSON envelope", async () => {
    const crashing = uniqueSlug("crash");
    const deployed = await deployOk(key, crashing, CITIES_CSV);
    await env.ARTIFACTS.put(
      deployed.tenant.resource.codeKey,
      "export default { async fetch() { throw new Error('secret stack detail'); } }",
    );
    const crash = await expectError(await call(`/t/${crashing}/v1/records`), 502, "tenant_worker_failure");
    expect(JSON.stringify(crash)).not.toContain("secret stack detail");

    const missing = uniqueSlug("nocode");
    const other = await deployOk(key, missing, CITIES_CSV);
    await env.ARTIFACTS.delete(other.tenant.resource.codeKey);
    await expectError(await call(`/t/${missing}/v1/records`), 404, "tenant_not_deployed");
  });

  it("records every call, refused ones included, in the tenant's stats", async () => {
    const counted = uniqueSlug("stats");
    await deployOk(key, counted, CITIES_CSV, {
      config: { rateLimit: { perCaller: { requests: 5, windowSeconds: 3600 } } },
    });
    const statuses = [];
    for (let i = 0; i < 7; i++)
      statuses.push(
        (
          await call(`/t/${counted}/v1/records`, {
            headers: { "cf-connecting-ip": "192.0.2.50", "x-agent-id": "bot-7" },
          })
        ).status,
      );
    await call(`/t/${counted}/v1/records/9999`, { headers: { "cf-connecting-ip": "192.0.2.51" } });
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    let total: any;
    for (let attempt = 0; attempt < 50; attempt++) {
      total = (await (await call(`/v1/tenants/${counted}`, { headers: auth(key) })).json<any>()).stats.windows.total;
      if (total.calls === 8) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(total).toMatchObject({ calls: 8, served: 6, refused: 2, errors: 0, uniqueCallers: 2 });
  });
});
