// Function tenants through the real dispatcher and Worker Loader: deploy contract, the sandbox
// (egress allowlist, maxDuration, exposeEnv), JSON wrapping, failures without leaks.
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { auth, call, createCreator, expectError, uniqueSlug } from "./helpers.ts";

let key: string;

beforeAll(async () => {
  key = (await createCreator("Function Creator")).key;
});

function deployFunction(
  slug: string,
  code: string | null,
  resource: Record<string, unknown> = {},
  secrets?: Record<string, string>,
  extra: Record<string, unknown> = {},
): Promise<Response> {
  const form = new FormData();
  if (code !== null) form.set("code", new File([code], "index.js", { type: "application/javascript" }));
  form.set("config", JSON.stringify({ ...extra, resource: { type: "function", ...resource } }));
  if (secrets) form.set("secrets", JSON.stringify(secrets));
  return call(`/v1/tenants/${slug}/deployments`, { method: "POST", headers: auth(key), body: form });
}

async function deployed(
  slug: string,
  code: string,
  resource: Record<string, unknown> = {},
  secrets?: Record<string, string>,
): Promise<any> {
  const res = await deployFunction(slug, code, resource, secrets);
  if (res.status !== 201) throw new Error(`deploy ${slug}: ${res.status} ${await res.text()}`);
  return res.json();
}

describe("function deploys", () => {
  it("runs a default-export handler; a non-Response return value becomes JSON", async () => {
    const slug = uniqueSlug("fn");
    const body = await deployed(
      slug,
      `export default async (req) => ({ path: new URL(req.url).pathname, n: [1, 2, 3].map((x) => x * 2) });`,
    );
    expect(body.deployment).toMatchObject({
      version: 1,
      type: "function",
      allowedHosts: [],
      maxDurationMs: 10000,
      exposeEnv: [],
    });
    expect(body.tenant.resource).toMatchObject({ type: "function", codeKey: `tenants/${slug}/v1/user.js` });
    const res = await call(`/t/${slug}/hello`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({ path: "/hello", n: [2, 4, 6] });
  });

  it("runs an object with fetch() and passes Responses through", async () => {
    const slug = uniqueSlug("fn");
    await deployed(
      slug,
      `export default { async fetch(req) { return new Response("plain " + req.method, { status: 201, headers: { "x-mine": "1" } }); } };`,
    );
    const res = await call(`/t/${slug}/x`, { method: "POST", body: "b" });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-mine")).toBe("1");
    expect(await res.text()).toBe("plain POST");
  });

  it("turns a thrown error into 502 tenant_worker_failure without the message", async () => {
    const slug = uniqueSlug("fn");
    await deployed(slug, `export default () => { throw new Error("internal detail 12345"); };`);
    const res = await call(`/t/${slug}/`);
    const text = await res.clone().text();
    await expectError(res, 502, "tenant_worker_failure");
    expect(text).not.toContain("12345");
  });

  it("refuses bad input with clear errors and deploys nothing", async () => {
    const slug = uniqueSlug("fn");
    await expectError(await deployFunction(slug, "export default {{{"), 422, "invalid_code");
    await expectError(await deployFunction(slug, "export const x = 1;"), 422, "missing_default_export");
    await expectError(await deployFunction(slug, null), 400, "missing_code");
    await expectError(
      await deployFunction(slug, "export default () => 1", { maxDurationMs: 0 }),
      400,
      "invalid_request",
    );
    await expectError(
      await deployFunction(slug, "export default () => 1", { maxDurationMs: 30001 }),
      400,
      "invalid_request",
    );
    await expectError(
      await deployFunction(slug, "export default () => 1", { allowedHosts: ["not a host"] }),
      400,
      "invalid_request",
    );
    await expectError(
      await deployFunction(slug, "export default () => 1", { exposeEnv: ["API_KEY"] }),
      400,
      "missing_secret",
    );
    await expectError(
      await deployFunction(slug, "export default () => 1", {}, { "bad-name": "x" }),
      400,
      "invalid_secrets",
    );
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM tenants WHERE slug = ?").bind(slug).first("n")).toBe(0);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM tenant_secrets WHERE slug = ?").bind(slug).first("n")).toBe(
      0,
    );
    expect((await env.ARTIFACTS.list({ prefix: `tenants/${slug}/` })).objects).toHaveLength(0);
  });
});

describe("function sandbox", () => {
  it("a global fetch to a host outside allowedHosts fails (egress gateway)", async () => {
    const slug = uniqueSlug("fn");
    await deployed(
      slug,
      `export const config = { allowedHosts: ["api.allowed.example"] };
       export default async () => {
         const out = {};
         for (const url of ["https://example.com/", "http://169.254.169.254/latest/meta-data", "http://127.0.0.1:8787/"]) {
           try { const r = await fetch(url); out[url] = { status: r.status, egress: r.headers.get("x-claw-egress"), body: await r.json() }; }
           catch (e) { out[url] = { threw: String(e) }; }
         }
         return out;
       };`,
      { allowedHosts: ["api.allowed.example"] },
    );
    const body = await (await call(`/t/${slug}/`)).json<any>();
    for (const url of ["https://example.com/", "http://169.254.169.254/latest/meta-data", "http://127.0.0.1:8787/"]) {
      expect(body[url]).toMatchObject({ status: 403, egress: "denied", body: { error: { code: "egress_denied" } } });
    }
  });

  it("ends a busy loop past maxDuration with 504 tenant_timeout, and the tenant keeps serving", async () => {
    const slug = uniqueSlug("fn");
    await deployed(
      slug,
      `export default async (req) => {
         if (new URL(req.url).pathname === "/ok") return { ok: true };
         let n = 0;
         while (true) { try { n++; } catch {} }
       };`,
      { maxDurationMs: 200 },
    );
    const started = Date.now();
    await expectError(await call(`/t/${slug}/spin`), 504, "tenant_timeout");
    expect(Date.now() - started).toBeLessThan(10_000);
    // A catch that swallows the budget error and loops again is ended too.
    expect(await (await call(`/t/${slug}/ok`)).json()).toEqual({ ok: true });
  });

  it("ends recursion that swallows the budget error", async () => {
    const slug = uniqueSlug("fn");
    await deployed(
      slug,
      `function f(d) { try { for (;;) {} } catch { return d < 1e6 ? f(d + 1) : 0; } }
      export default () => { for (;;) { try { f(0); } catch {} } };`,
      { maxDurationMs: 100 },
    );
    await expectError(await call(`/t/${slug}/`), 504, "tenant_timeout");
  });

  it("ends an I/O wait past maxDuration (dispatcher timeout)", async () => {
    const slug = uniqueSlug("fn");
    await deployed(slug, `export default async () => { await new Promise((r) => setTimeout(r, 60_000)); return 1; };`, {
      maxDurationMs: 300,
    });
    const started = Date.now();
    await expectError(await call(`/t/${slug}/`), 504, "tenant_timeout");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("only exposeEnv secrets reach the code; nothing of the platform env does", async () => {
    const slug = uniqueSlug("fn");
    const res = await deployFunction(
      slug,
      `export default (req, env) => ({ keys: Object.keys(env).sort(), visible: env.VISIBLE_KEY, hidden: env.HIDDEN_KEY ?? null });`,
      { exposeEnv: ["VISIBLE_KEY"] },
      { VISIBLE_KEY: "vis-value-1", HIDDEN_KEY: "hidden-value-2" },
    );
    const deployText = await res.text();
    expect(res.status).toBe(201);
    expect(deployText).not.toContain("vis-value-1");
    expect(deployText).not.toContain("hidden-value-2");
    expect(JSON.parse(deployText).tenant.secretNames).toEqual(["HIDDEN_KEY", "VISIBLE_KEY"]);
    expect(await (await call(`/t/${slug}/`)).json()).toEqual({
      keys: ["VISIBLE_KEY"],
      visible: "vis-value-1",
      hidden: null,
    });
    // Secrets are stored encrypted: no plaintext in D1 or R2.
    const rows = await env.DB.prepare("SELECT * FROM tenant_secrets WHERE slug = ?").bind(slug).all();
    expect(JSON.stringify(rows.results)).not.toContain("hidden-value-2");
    const tenantRow = await env.DB.prepare("SELECT config FROM tenants WHERE slug = ?")
      .bind(slug)
      .first<string>("config");
    expect(tenantRow).not.toContain("hidden-value-2");
    const objects = (await env.ARTIFACTS.list({ prefix: `tenants/${slug}/` })).objects;
    for (const o of objects) expect(await (await env.ARTIFACTS.get(o.key))!.text()).not.toContain("hidden-value-2");
    const shown = await (await call(`/v1/tenants/${slug}`, { headers: auth(key) })).text();
    expect(shown).not.toContain("value-");
    expect(JSON.parse(shown).tenant.secretNames).toEqual(["HIDDEN_KEY", "VISIBLE_KEY"]);
    // A redeploy keeps settings and secrets not sent.
    const again = await deployed(slug, `export default (req, env) => ({ visible: env.VISIBLE_KEY });`, {});
    expect(again.deployment).toMatchObject({ version: 2, exposeEnv: ["VISIBLE_KEY"] });
    expect(await (await call(`/t/${slug}/`)).json()).toEqual({ visible: "vis-value-1" });
  });

  it("deleting a tenant deletes its encrypted secrets", async () => {
    const slug = uniqueSlug("fn");
    await deployed(slug, "export default () => ({ ok: true })", {}, { API_TOKEN: "s3cret-value" });
    const count = () =>
      env.DB.prepare("SELECT count(*) AS n FROM tenant_secrets WHERE slug = ?").bind(slug).first<{ n: number }>();
    expect((await count())?.n).toBe(1);
    expect((await call(`/v1/tenants/${slug}`, { method: "DELETE", headers: auth(key) })).status).toBe(200);
    expect((await count())?.n).toBe(0);
  });

  it("a redeploy with another resource type is refused", async () => {
    const slug = uniqueSlug("fn");
    await deployed(slug, `export default () => 1;`);
    const form = new FormData();
    form.set("file", new File(["id\n1\n"], "d.csv", { type: "text/csv" }));
    await expectError(
      await call(`/v1/tenants/${slug}/deployments`, { method: "POST", headers: auth(key), body: form }),
      409,
      "resource_type_mismatch",
    );
  });
});
