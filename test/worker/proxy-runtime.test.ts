// Proxy tenants through the real dispatcher. The upstream is real: a function tenant that echoes
// what it receives, reached over the dev loopback allowance (ALLOW_LOOPBACK_UPSTREAMS=true in
// wrangler.jsonc's top level; a loopback platform host is served in-process by the dispatcher).
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { auth, call, createCreator, expectError, uniqueSlug } from "./helpers.ts";
import { forwardedHeaders } from "../../src/runtimes/proxy/engine.ts";

const SECRET = "sk_live_TOPSECRET_4711";
let key: string;
let echoSlug: string;
let echoBase: string;

const ECHO = `
let served = 0;
export default async (req) => {
  served++;
  const url = new URL(req.url);
  const headers = Object.fromEntries([...req.headers].filter(([k]) => !k.startsWith("cf-")));
  const body = { served, method: req.method, path: url.pathname, query: url.search, headers, id: 7, name: "echo", nested: { a: 1, b: 2 } };
  const cc = url.searchParams.get("cc");
  return new Response(JSON.stringify(body), { headers: { "content-type": "application/json", ...(cc ? { "cache-control": cc } : {}), "x-echo-key": headers["x-api-key"] ?? "", ...(url.searchParams.has("cookie") ? { "set-cookie": "upstream=1" } : {}) } });
};`;

async function deploy(
  slug: string,
  config: Record<string, unknown>,
  secrets?: Record<string, string>,
  extraParts: Record<string, string> = {},
): Promise<Response> {
  const form = new FormData();
  form.set("config", JSON.stringify(config));
  if (secrets) form.set("secrets", JSON.stringify(secrets));
  for (const [name, value] of Object.entries(extraParts)) form.set(name, value);
  return call(`/v1/tenants/${slug}/deployments`, { method: "POST", headers: auth(key), body: form });
}

async function deployProxy(
  slug: string,
  resource: Record<string, unknown>,
  secrets?: Record<string, string>,
): Promise<any> {
  const res = await deploy(slug, { resource: { type: "proxy", allowLoopback: true, ...resource } }, secrets);
  if (res.status !== 201) throw new Error(`deploy ${slug}: ${res.status} ${await res.text()}`);
  return res.json();
}

beforeAll(async () => {
  key = (await createCreator("Proxy Creator")).key;
  echoSlug = uniqueSlug("echo");
  const form = new FormData();
  form.set("code", new File([ECHO], "echo.js"));
  form.set("config", JSON.stringify({ resource: { type: "function" } }));
  const res = await call(`/v1/tenants/${echoSlug}/deployments`, { method: "POST", headers: auth(key), body: form });
  if (res.status !== 201) throw new Error(`echo deploy: ${res.status} ${await res.text()}`);
  echoBase = `http://localhost/t/${echoSlug}/api/v3`;
});

describe("proxy forwarding", () => {
  it("keeps the upstream base path and the query", async () => {
    const slug = uniqueSlug("px");
    await deployProxy(slug, { upstream: echoBase });
    const res = await call(`/t/${slug}/coins/list?vs=usd`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ method: "GET", path: "/api/v3/coins/list", query: "?vs=usd" });
  });

  it("enforces the method allowlist with 405 and Allow", async () => {
    const slug = uniqueSlug("px");
    await deployProxy(slug, { upstream: echoBase, methods: ["GET", "post"] });
    const res = await call(`/t/${slug}/x`, { method: "DELETE" });
    expect(res.headers.get("allow")).toBe("GET, POST");
    await expectError(res, 405, "method_not_allowed");
    const post = await call(`/t/${slug}/x`, {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    expect(await post.json()).toMatchObject({ method: "POST" });
  });

  it("injects the secret header; the secret never appears in a response or in show", async () => {
    const slug = uniqueSlug("px");
    const deployRes = await deploy(
      slug,
      {
        resource: {
          type: "proxy",
          upstream: echoBase,
          allowLoopback: true,
          headers: {
            "X-Api-Key": { secret: "UPSTREAM_KEY" },
            Authorization: { secret: "UPSTREAM_KEY", prefix: "Bearer " },
          },
        },
      },
      { UPSTREAM_KEY: SECRET },
    );
    const deployText = await deployRes.text();
    expect(deployRes.status).toBe(201);
    expect(deployText).not.toContain(SECRET);
    const res = await call(`/t/${slug}/echo?cookie=1`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain(SECRET);
    for (const [, value] of res.headers) expect(value).not.toContain(SECRET);
    // The upstream did receive it (echoed back, and scrubbed on the way out).
    const body = JSON.parse(text);
    expect(body.headers["x-api-key"]).toBe("[redacted]");
    expect(res.headers.get("x-echo-key")).toBe("[redacted]");
    expect(res.headers.get("set-cookie")).toBeNull();
    const shown = await (await call(`/v1/tenants/${slug}`, { headers: auth(key) })).text();
    expect(shown).not.toContain(SECRET);
    expect(JSON.parse(shown).tenant).toMatchObject({
      secretNames: ["UPSTREAM_KEY"],
      resource: { headers: { "X-Api-Key": { secret: "UPSTREAM_KEY" } } },
    });
    const listed = await (await call(`/v1/tenants`, { headers: auth(key) })).text();
    expect(listed).not.toContain(SECRET);
    const row = await env.DB.prepare("SELECT config FROM tenants WHERE slug = ?").bind(slug).first<string>("config");
    expect(row).not.toContain(SECRET);
  });

  it("does not forward the caller's payment signature, authorization or cookies", async () => {
    const slug = uniqueSlug("px");
    await deployProxy(slug, { upstream: echoBase });
    const res = await call(`/t/${slug}/h`, {
      headers: {
        "payment-signature": "sig-abc",
        "x-payment": "xp-abc",
        authorization: "Bearer caller-token",
        cookie: "session=caller",
        "x-custom": "kept",
      },
    });
    const body = await res.json<any>();
    const seen = JSON.stringify(body.headers).toLowerCase();
    for (const leaked of ["sig-abc", "xp-abc", "caller-token", "session=caller"]) expect(seen).not.toContain(leaked);
    expect(body.headers["x-custom"]).toBe("kept");
    // The engine itself drops them too (not only the dispatcher's tenantRequest in front of it).
    const direct = forwardedHeaders(
      new Headers({
        "payment-signature": "s",
        "x-payment": "p",
        authorization: "a",
        cookie: "c",
        "proxy-authorization": "pa",
        "cf-connecting-ip": "1.2.3.4",
        "x-forwarded-for": "1.2.3.4",
        accept: "application/json",
      }),
      {
        type: "proxy",
        upstream: "https://a.example",
        methods: ["GET"],
        headers: {},
        cacheTtlSeconds: 0,
        allowLoopback: false,
      },
      {},
    );
    expect([...direct.keys()]).toEqual(["accept"]);
  });

  it("a loopback upstream on another port is a real network fetch, not this dispatcher", async () => {
    const slug = uniqueSlug("px");
    await deployProxy(slug, { upstream: "http://localhost:1/api" });
    const res = await call(`/t/${slug}/items`);
    const body = await res.clone().text();
    expect(body).not.toContain("route_not_found");
    await expectError(res, 502, "upstream_unreachable");
  });

  it("applies the declarative transform", async () => {
    const slug = uniqueSlug("px");
    await deployProxy(slug, {
      upstream: echoBase,
      transform: { pick: ["id", "name", "nested.b"], rename: { name: "title" } },
    });
    expect(await (await call(`/t/${slug}/t`)).json()).toEqual({ id: 7, title: "echo", nested: { b: 2 } });
  });
});

describe("proxy cache", () => {
  it("serves GET hits within the TTL and honours upstream no-store / private", async () => {
    const slug = uniqueSlug("px");
    await deployProxy(slug, { upstream: echoBase, cacheTtlSeconds: 60 });
    const first = await call(`/t/${slug}/c?k=1`);
    expect(first.headers.get("x-claw-cache")).toBe("MISS");
    const firstBody = await first.json<any>();
    const second = await call(`/t/${slug}/c?k=1`);
    expect(second.headers.get("x-claw-cache")).toBe("HIT");
    expect((await second.json<any>()).served).toBe(firstBody.served);
    const other = await call(`/t/${slug}/c?k=2`);
    expect(other.headers.get("x-claw-cache")).toBe("MISS");
    await other.body?.cancel();
    for (const cc of ["no-store", "private, max-age=60"]) {
      const a = await call(`/t/${slug}/c?cc=${encodeURIComponent(cc)}`);
      expect(a.headers.get("x-claw-cache")).toBe("BYPASS");
      const servedA = (await a.json<any>()).served;
      const b = await call(`/t/${slug}/c?cc=${encodeURIComponent(cc)}`);
      expect(b.headers.get("x-claw-cache")).toBe("BYPASS");
      expect((await b.json<any>()).served).toBeGreaterThan(servedA);
    }
  });

  it("does not cache without a TTL", async () => {
    const slug = uniqueSlug("px");
    await deployProxy(slug, { upstream: echoBase });
    const a = await (await call(`/t/${slug}/n`)).json<any>();
    const b = await (await call(`/t/${slug}/n`)).json<any>();
    expect(b.served).toBeGreaterThan(a.served);
  });
});

describe("proxy SSRF and bad input", () => {
  it("refuses unsafe upstreams at deploy, before anything is stored or fetched", async () => {
    const slug = uniqueSlug("px");
    for (const upstream of [
      "http://127.0.0.1/x",
      "http://10.0.0.1/",
      "http://169.254.169.254/latest/meta-data",
      "http://[::1]/",
      "http://intranet/api",
      "http://localhost/x",
      "http://2130706433/",
      "http://[::ffff:127.0.0.1]/",
      "http://0.0.0.0/",
    ]) {
      const res = await deploy(slug, { resource: { type: "proxy", upstream } });
      await expectError(res, 400, "unsafe_upstream");
    }
    // The dev allowance admits loopback only, never private or metadata addresses.
    await expectError(
      await deploy(slug, { resource: { type: "proxy", upstream: "http://169.254.169.254/", allowLoopback: true } }),
      400,
      "unsafe_upstream",
    );
    await expectError(
      await deploy(slug, { resource: { type: "proxy", upstream: "http://10.0.0.1/", allowLoopback: true } }),
      400,
      "unsafe_upstream",
    );
    await expectError(await deploy(slug, { resource: { type: "proxy" } }), 400, "invalid_config");
    await expectError(
      await deploy(slug, { resource: { type: "proxy", upstream: "http://api.example.com/" } }),
      400,
      "invalid_config",
    );
    await expectError(
      await deploy(slug, { resource: { type: "proxy", upstream: "https://api.example.com/?a=1" } }),
      400,
      "invalid_config",
    );
    await expectError(
      await deploy(slug, { resource: { type: "proxy", upstream: "https://api.example.com/", methods: ["TRACE"] } }),
      400,
      "invalid_request",
    );
    await expectError(
      await deploy(slug, {
        resource: { type: "proxy", upstream: "https://api.example.com/", headers: { "X-Key": { secret: "NOPE" } } },
      }),
      400,
      "missing_secret",
    );
    await expectError(
      await deploy(slug, { resource: { type: "proxy", upstream: "https://api.example.com/" } }, undefined, {
        code: "export default () => 1",
      }),
      400,
      "unexpected_part",
    );
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM tenants WHERE slug = ?").bind(slug).first("n")).toBe(0);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM tenant_secrets WHERE slug = ?").bind(slug).first("n")).toBe(
      0,
    );
  });

  it("refuses at call time too, before any fetch, if a stored upstream is unsafe", async () => {
    // A config written before the guard existed (or by hand) is still refused when called.
    const slug = uniqueSlug("px");
    await deployProxy(slug, { upstream: echoBase });
    for (const upstream of [
      "http://127.0.0.1/",
      "http://10.0.0.1/",
      "http://169.254.169.254/",
      "http://[::1]/",
      "http://intranet/",
    ]) {
      const row = await env.DB.prepare("SELECT config FROM tenants WHERE slug = ?").bind(slug).first<string>("config");
      const config = JSON.parse(row!);
      config.resource.upstream = upstream;
      config.resource.allowLoopback = false;
      config.version += 1;
      await env.DB.prepare("UPDATE tenants SET config = ?, version = ? WHERE slug = ?")
        .bind(JSON.stringify(config), config.version, slug)
        .run();
      const { TenantDirectory } = await import("../../src/tenancy/directory.ts");
      TenantDirectory.forget(slug);
      await expectError(await call(`/t/${slug}/x`), 502, "upstream_refused");
    }
  });
});
