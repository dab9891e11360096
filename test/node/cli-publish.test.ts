// `claw publish` end to end: the real local stack (wrangler dev dispatcher) configured with
// CF_API_BASE pointing at a local recording "Cloudflare API", the real `claw` binary holding only
// a 402claw key. The control plane builds the script from what it stored in R2, decrypts the
// tenant's secrets and uploads with the platform's token; the recorder checks the exact request.
// No internet.
import { createServer, type IncomingMessage } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, listenOnLoopback, type Listening } from "../../cli/local/ports.ts";
import { startLocalStack, type LocalStack } from "../../cli/dev/stack.ts";
import { claw } from "./support/claw-cli.ts";
import { CSV } from "./support/paid-env.ts";

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

const ACCOUNT = "acc123";
const NAMESPACE = "claw-prod";
const PLATFORM_TOKEN = "cf-platform-token-7f3a9c";
const SECRET = "s3cr3t-weather-value";
const FUNCTION_CODE = `const greet = (n) => "hi " + n;\nexport default { async fetch(req, env) { for (let i = 0; i < 2; i++) {} return new Response(greet(env.WEATHER_KEY ? "x" : "y")); } };\n`;

const dir = mkdtempSync(join(tmpdir(), "claw-publish-"));
let stack: LocalStack;
let cloudflare: Listening;
let creatorKey = "";
let otherKey = "";
const recorded: Recorded[] = [];
let cfStatus = 200;
const suffix = String(process.pid);
const fnSlug = `pubfn-${suffix}`;
const dsSlug = `pubds-${suffix}`;
const pxSlug = `pubpx-${suffix}`;

function read(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
  });
}

async function parts(r: Recorded): Promise<FormData> {
  return new Response(new Uint8Array(r.body), {
    headers: { "content-type": String(r.headers["content-type"]) },
  }).formData();
}

async function createCreator(name: string): Promise<string> {
  const res = await fetch(`${stack.apiUrl}/__platform/creators`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.secrets.OPERATOR_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201) throw new Error(`creator: ${res.status} ${await res.text()}`);
  return ((await res.json()) as any).apiKey.key as string;
}

async function deploy(slug: string, parts: Record<string, string | File>): Promise<void> {
  const form = new FormData();
  for (const [k, v] of Object.entries(parts)) form.set(k, v);
  const res = await fetch(`${stack.apiUrl}/v1/tenants/${slug}/deployments`, {
    method: "POST",
    headers: { authorization: `Bearer ${creatorKey}` },
    body: form,
  });
  if (res.status !== 201) throw new Error(`deploy ${slug}: ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  cloudflare = await listenOnLoopback(
    createServer(async (req, res) => {
      recorded.push({ method: req.method!, url: req.url!, headers: req.headers, body: await read(req) });
      res.setHeader("content-type", "application/json");
      if (cfStatus !== 200)
        return res.writeHead(cfStatus).end(
          JSON.stringify({
            success: false,
            errors: [{ code: 10000, message: "Authentication error" }],
            messages: [],
            result: null,
          }),
        );
      res.end(
        JSON.stringify({ success: true, errors: [], messages: [], result: { id: "tenant-x", etag: "etag-abc" } }),
      );
    }),
  );
  stack = await startLocalStack({
    port: await freePort(),
    persistTo: join(dir, "state"),
    vars: {
      CF_API_BASE: `${cloudflare.url}/client/v4`,
      CF_ACCOUNT_ID: ACCOUNT,
      CF_DISPATCH_NAMESPACE: NAMESPACE,
      CF_API_TOKEN: PLATFORM_TOKEN,
    },
  });
  creatorKey = await createCreator("publisher");
  otherKey = await createCreator("someone else");
  const pay = {
    priceUsd: 0.001,
    payTo: stack.payments.accounts.payTo.address,
    network: stack.payments.network,
    asset: stack.payments.asset,
  };
  await deploy(fnSlug, {
    code: new File([FUNCTION_CODE], "worker.js", { type: "application/javascript" }),
    config: JSON.stringify({ ...pay, resource: { type: "function", exposeEnv: ["WEATHER_KEY"], maxDurationMs: 5000 } }),
    secrets: JSON.stringify({ WEATHER_KEY: SECRET }),
  });
  await deploy(dsSlug, { file: new File([CSV], "cities.csv"), config: JSON.stringify(pay) });
  await deploy(pxSlug, {
    config: JSON.stringify({ ...pay, resource: { type: "proxy", upstream: "https://api.example.com/v1" } }),
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await cloudflare?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const env = (key = creatorKey) => ({
  CLAW_CONFIG_DIR: join(dir, "cfg"),
  CLAW_API_URL: stack.apiUrl,
  CLAW_API_KEY: key,
  CLOUDFLARE_API_TOKEN: undefined,
});

describe("claw publish (control plane upload)", () => {
  it("uploads a function as the loader runs it, with its secret as secret_text, using the platform token", async () => {
    recorded.length = 0;
    const r = await claw(["publish", fnSlug, "--json"], env());
    expect(r.code, r.stderr).toBe(0);
    expect(recorded).toHaveLength(1);
    const req = recorded[0]!;
    expect(req.method).toBe("PUT");
    expect(req.url).toBe(
      `/client/v4/accounts/${ACCOUNT}/workers/dispatch/namespaces/${NAMESPACE}/scripts/tenant-${fnSlug}`,
    );
    expect(req.headers.authorization).toBe(`Bearer ${PLATFORM_TOKEN}`);
    expect(req.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    const form = await parts(req);
    expect([...form.keys()]).toEqual(["metadata", "claw-wrapper.js", "claw-budget.js", "user.js"]);
    const metadata = form.get("metadata") as File;
    expect(metadata.type).toBe("application/json");
    expect(JSON.parse(await metadata.text())).toEqual({
      main_module: "claw-wrapper.js",
      bindings: [
        { type: "secret_text", name: "WEATHER_KEY", text: SECRET },
        { type: "plain_text", name: "TENANT_SLUG", text: fnSlug },
        { type: "plain_text", name: "TENANT_VERSION", text: "1" },
      ],
      compatibility_date: "2026-10-01",
      tags: [`tenant:${fnSlug}`, expect.stringMatching(/^owner:.+/), "v1"],
    });
    for (const name of ["claw-wrapper.js", "claw-budget.js", "user.js"])
      expect((form.get(name) as File).type).toBe("application/javascript+module");
    expect(await (form.get("claw-wrapper.js") as File).text()).toContain('import * as user from "./user.js"');
    const user = await (form.get("user.js") as File).text();
    expect(user).toContain("__claw_tick"); // the stored, instrumented module
    expect(user).toContain('"hi "');
    // The creator sees names only: never the secret value, never the platform token.
    for (const out of [r.stdout, r.stderr]) {
      expect(out).not.toContain(SECRET);
      expect(out).not.toContain(PLATFORM_TOKEN);
    }
    expect(r.json).toMatchObject({ dryRun: false, slug: fnSlug, version: 1, result: { etag: "etag-abc" } });
    expect(r.json.plan.metadata.bindings).toEqual([
      { type: "secret_text", name: "WEATHER_KEY" },
      { type: "plain_text", name: "TENANT_SLUG", text: fnSlug },
      { type: "plain_text", name: "TENANT_VERSION", text: "1" },
    ]);
    expect(r.json.plan.modules.map((m: any) => m.name)).toEqual(["claw-wrapper.js", "claw-budget.js", "user.js"]);
    expect(r.json.plan.modules[2].sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("uploads a dataset as the stored engine reading its data from the platform's R2 bucket", async () => {
    recorded.length = 0;
    const r = await claw(["publish", dsSlug, "--json"], env());
    expect(r.code, r.stderr).toBe(0);
    expect(recorded).toHaveLength(1);
    const form = await parts(recorded[0]!);
    expect([...form.keys()]).toEqual(["metadata", "index.js", "engine.js"]);
    const meta = JSON.parse(await (form.get("metadata") as File).text());
    expect(meta.main_module).toBe("index.js");
    expect(meta.bindings).toEqual([
      { type: "plain_text", name: "TENANT_SLUG", text: dsSlug },
      { type: "plain_text", name: "TENANT_VERSION", text: "1" },
      { type: "r2_bucket", name: "DATA_BUCKET", bucket_name: "claw-artifacts" },
      { type: "plain_text", name: "DATA_KEY", text: `tenants/${dsSlug}/v1/data.json` },
    ]);
    expect(await (form.get("index.js") as File).text()).toContain("env.DATA_BUCKET.get(env.DATA_KEY)");
  });

  it("--dry-run prints the plan and sends nothing to Cloudflare", async () => {
    recorded.length = 0;
    const r = await claw(["publish", fnSlug, "--dry-run", "--json"], env());
    expect(r.code, r.stderr).toBe(0);
    expect(recorded).toHaveLength(0);
    expect(r.json).toMatchObject({
      dryRun: true,
      plan: {
        method: "PUT",
        scriptName: `tenant-${fnSlug}`,
        metadata: { main_module: "claw-wrapper.js", compatibility_date: "2026-10-01" },
      },
    });
    expect(r.stdout).not.toContain(SECRET);
    const human = await claw(["publish", fnSlug, "--dry-run"], env());
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout + human.stderr).toContain(`tenant-${fnSlug}`);
    expect(human.stdout + human.stderr).not.toContain(SECRET);
    expect(recorded).toHaveLength(0);
  });

  it("refuses cleanly: Cloudflare 403, a proxy, another creator's tenant", async () => {
    recorded.length = 0;
    cfStatus = 403;
    try {
      const denied = await claw(["publish", fnSlug], env());
      expect(denied.code).toBe(6);
      expect(
        denied.stderr
          .trim()
          .split("\n")
          .filter((l) => l.includes("✖")),
      ).toHaveLength(1);
      expect(denied.stderr).toContain("Authentication error (code 10000)");
      expect(denied.stderr).toContain("publish_failed");
      expect(denied.stderr).not.toContain(PLATFORM_TOKEN);
      expect(denied.stderr).not.toContain(SECRET);
      const json = await claw(["publish", fnSlug, "--json"], env());
      expect(json.json.error.code).toBe("publish_failed");
      expect(JSON.stringify(json.json)).not.toContain(SECRET);
    } finally {
      cfStatus = 200;
    }
    expect(recorded).toHaveLength(2);
    recorded.length = 0;
    const proxy = await claw(["publish", pxSlug, "--json"], env());
    expect(proxy.code).toBe(2);
    expect(proxy.json.error.code).toBe("publish_unsupported");
    const other = await claw(["publish", fnSlug, "--json"], env(otherKey));
    expect(other.code).toBe(4);
    expect(other.json.error.code).toBe("tenant_not_found");
    const res = await fetch(`${stack.apiUrl}/v1/tenants/${fnSlug}/publish`, {
      method: "POST",
      headers: { authorization: `Bearer ${otherKey}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(404);
    expect(recorded).toHaveLength(0);
  });
});
