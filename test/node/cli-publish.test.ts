// `claw publish` against local servers only: a stand-in platform API answering GET
// /v1/tenants/:slug, and a recording "Cloudflare API" that checks the exact upload request
// (method, path, headers, multipart parts). No internet, no wrangler.
import { createServer, type IncomingMessage } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenOnLoopback, type Listening } from "../../cli/local/ports.ts";
import { claw } from "./support/claw-cli.ts";

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

const dir = mkdtempSync(join(tmpdir(), "claw-publish-"));
const KEY = "claw_sk_test_publish";
const TOKEN = "cf-token-123";
let platform: Listening;
let cloudflare: Listening;
const recorded: Recorded[] = [];
let cfStatus = 200;

const tenants: Record<string, unknown> = {
  "cities-pub": { slug: "cities-pub", resourceType: "dataset", version: 3, secretNames: [], resource: { type: "dataset", format: "csv", idField: "id" } },
  "fn-pub": { slug: "fn-pub", resourceType: "function", version: 2, secretNames: ["WEATHER_KEY"], resource: { type: "function", exposeEnv: ["WEATHER_KEY"] } },
  "proxy-pub": { slug: "proxy-pub", resourceType: "proxy", version: 1, secretNames: [] },
};

function read(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
  });
}

async function parts(r: Recorded): Promise<FormData> {
  return new Response(new Uint8Array(r.body), { headers: { "content-type": String(r.headers["content-type"]) } }).formData();
}

beforeAll(async () => {
  platform = await listenOnLoopback(
    createServer((req, res) => {
      const slug = /^\/v1\/tenants\/([a-z0-9-]+)$/.exec(req.url ?? "")?.[1];
      res.setHeader("content-type", "application/json");
      if (req.headers.authorization !== `Bearer ${KEY}`) return res.writeHead(401).end(JSON.stringify({ error: { code: "unauthorized", message: "bad key" } }));
      if (!slug || !tenants[slug]) return res.writeHead(404).end(JSON.stringify({ error: { code: "tenant_not_found", message: `no tenant '${slug}' in your account` } }));
      res.end(JSON.stringify({ tenant: tenants[slug], stats: {} }));
    }),
  );
  cloudflare = await listenOnLoopback(
    createServer(async (req, res) => {
      recorded.push({ method: req.method!, url: req.url!, headers: req.headers, body: await read(req) });
      res.setHeader("content-type", "application/json");
      if (cfStatus !== 200) return res.writeHead(cfStatus).end(JSON.stringify({ success: false, errors: [{ code: 10000, message: "Authentication error" }], result: null }));
      res.end(JSON.stringify({ success: true, errors: [], messages: [], result: { id: "tenant-x", etag: "abc" } }));
    }),
  );
  writeFileSync(join(dir, "cities.csv"), "id,city,population\n1,Paris,2161000\n2,Lyon,513275\n");
  writeFileSync(
    join(dir, "fn.ts"),
    `const greet = (n: string): string => "hi " + n;\nexport const config = { allowedHosts: ["api.weather.test"], maxDuration: "5s", exposeEnv: ["WEATHER_KEY"] };\nexport default { async fetch(req: Request, env: { WEATHER_KEY: string }) { return new Response(greet("x")); } };\n`,
  );
});

afterAll(async () => {
  await platform?.stop();
  await cloudflare?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ CLAW_CONFIG_DIR: join(dir, "cfg"), CLAW_API_URL: platform.url, CLAW_API_KEY: KEY, CLOUDFLARE_API_TOKEN: TOKEN });
const target = () => ["--account", "acc123", "--namespace", "claw-prod", "--api-base", `${cloudflare.url}/client/v4`];

describe("claw publish", () => {
  it("uploads a dataset tenant as engine + embedded data with the exact Workers for Platforms request", async () => {
    recorded.length = 0;
    const r = await claw(["publish", "cities-pub", join(dir, "cities.csv"), ...target(), "--json"], env());
    expect(r.code, r.stderr).toBe(0);
    expect(recorded).toHaveLength(1);
    const req = recorded[0]!;
    expect(req.method).toBe("PUT");
    expect(req.url).toBe("/client/v4/accounts/acc123/workers/dispatch/namespaces/claw-prod/scripts/tenant-cities-pub");
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    const form = await parts(req);
    expect([...form.keys()]).toEqual(["metadata", "index.js", "engine.js", "dataset.json.txt"]);
    const metadata = form.get("metadata") as File;
    expect(metadata.type).toBe("application/json");
    expect(JSON.parse(await metadata.text())).toEqual({
      main_module: "index.js",
      bindings: [
        { type: "plain_text", name: "TENANT_SLUG", text: "cities-pub" },
        { type: "plain_text", name: "TENANT_VERSION", text: "3" },
      ],
      compatibility_date: "2026-10-01",
      tags: ["402claw", "tenant:cities-pub", "type:dataset", "version:3"],
    });
    expect((form.get("index.js") as File).type).toBe("application/javascript+module");
    expect(await (form.get("index.js") as File).text()).toContain('import engine from "./engine.js"');
    expect((form.get("engine.js") as File).type).toBe("application/javascript+module");
    const data = form.get("dataset.json.txt") as File;
    expect(data.type).toBe("text/plain");
    const normalized = JSON.parse(await data.text());
    const cityAt = normalized.schema.fields.findIndex((f: any) => (f.name ?? f) === "city");
    expect(normalized.rows.map((row: any[]) => row[cityAt])).toEqual(["Paris", "Lyon"]);
    expect(normalized.schema.rows).toBe(2);
    expect(r.json.plan.scriptName).toBe("tenant-cities-pub");
  });

  it("uploads a function bundle with its secrets as secret_text bindings (values from the environment)", async () => {
    recorded.length = 0;
    const r = await claw(["publish", "fn-pub", join(dir, "fn.ts"), ...target(), "--json"], { ...env(), WEATHER_KEY: "s3cr3t" });
    expect(r.code, r.stderr).toBe(0);
    const req = recorded[0]!;
    expect(req.url).toBe("/client/v4/accounts/acc123/workers/dispatch/namespaces/claw-prod/scripts/tenant-fn-pub");
    const form = await parts(req);
    expect([...form.keys()]).toEqual(["metadata", "worker.js"]);
    const meta = JSON.parse(await (form.get("metadata") as File).text());
    expect(meta.main_module).toBe("worker.js");
    expect(meta.bindings).toEqual([
      { type: "secret_text", name: "WEATHER_KEY", text: "s3cr3t" },
      { type: "plain_text", name: "TENANT_SLUG", text: "fn-pub" },
      { type: "plain_text", name: "TENANT_VERSION", text: "2" },
    ]);
    const code = await (form.get("worker.js") as File).text();
    expect((form.get("worker.js") as File).type).toBe("application/javascript+module");
    expect(code).not.toContain(": string"); // TypeScript compiled away
    expect(code).toContain("export");
    // The printed plan never shows secret values.
    expect(r.stdout).not.toContain("s3cr3t");
  });

  it("--dry-run prints the plan and sends nothing (no Cloudflare token needed)", async () => {
    recorded.length = 0;
    const r = await claw(["publish", "cities-pub", join(dir, "cities.csv"), ...target(), "--dry-run", "--json"], { ...env(), CLOUDFLARE_API_TOKEN: undefined });
    expect(r.code, r.stderr).toBe(0);
    expect(recorded).toHaveLength(0);
    expect(r.json).toMatchObject({ dryRun: true, plan: { method: "PUT", scriptName: "tenant-cities-pub", mainModule: "index.js" } });
    expect(r.json.plan.modules.map((m: any) => m.name)).toEqual(["index.js", "engine.js", "dataset.json.txt"]);
  });

  it("refuses cleanly: missing secret, missing token, unknown tenant, proxy, Cloudflare auth error", async () => {
    recorded.length = 0;
    const noSecret = await claw(["publish", "fn-pub", join(dir, "fn.ts"), ...target()], env());
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr.trim().split("\n")).toHaveLength(1);
    expect(noSecret.stderr).toContain("WEATHER_KEY");
    const noToken = await claw(["publish", "cities-pub", join(dir, "cities.csv"), ...target()], { ...env(), CLOUDFLARE_API_TOKEN: undefined });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("CLOUDFLARE_API_TOKEN");
    const unknown = await claw(["publish", "nope-nope", join(dir, "cities.csv"), ...target()], env());
    expect(unknown.code).toBe(4);
    const proxy = await claw(["publish", "proxy-pub", ...target()], env());
    expect(proxy.code).toBe(2);
    expect(recorded).toHaveLength(0);
    cfStatus = 403;
    try {
      const denied = await claw(["publish", "cities-pub", join(dir, "cities.csv"), ...target(), "--json"], env());
      expect(denied.code).toBe(3);
      expect(denied.json.error.message).toContain("Authentication error");
    } finally {
      cfStatus = 200;
    }
  });
});
