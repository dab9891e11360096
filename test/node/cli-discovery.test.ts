// Issue 10, the CLI side, with the real `claw` binary against the real local stack: a TypeScript
// function's `export const config = {input, output}` reaches its per-API OpenAPI document; a bad
// schema or example is one ✖ line, exit 2, and nothing deployed; `claw wrap --openapi <file>`
// lists the upstream's operations (allowed methods only) in the per-API document and in the
// 402's bazaar block (checked with @x402/extensions' validator); deploy and show print the
// discovery checklist (GET /v1/tenants/:slug/discovery) and --json carries it.
import { createServer } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateDiscoveryExtension } from "@x402/extensions/bazaar";
import { listenOnLoopback, type Listening } from "../../cli/local/ports.ts";
import { startPaidEnv, type PaidEnv } from "./support/paid-env.ts";
import { claw } from "./support/claw-cli.ts";

let env: PaidEnv;
let upstream: Listening;
const dir = mkdtempSync(join(tmpdir(), "claw-cli-disc-"));
const cfg = join(dir, "cfg");
const suffix = String(process.pid);
const base = () => ({ CLAW_CONFIG_DIR: cfg });
const pay = () => [
  "--price",
  "0.002",
  "--pay-to",
  env.stack.payments.accounts.payTo.address,
  "--network",
  env.stack.payments.network,
  "--asset",
  JSON.stringify(env.stack.payments.asset),
];

const INPUT = { type: "object", properties: { text: { type: "string", minLength: 1 } }, required: ["text"] };
const OUTPUT = { type: "object", properties: { length: { type: "integer" } }, required: ["length"] };

function fnSource(config: string): string {
  return (
    `interface In { text: string }\nexport const config = ${config};\n` +
    "export default { async fetch(req: Request): Promise<Response> { const b = (await req.json()) as In; " +
    "return Response.json({ length: b.text.length }); } };\n"
  );
}

const SPECIES = "#/components/schemas/Species";
const PET = "#/components/schemas/Pet";
const json = (schema: unknown) => ({ content: { "application/json": { schema } } });
const petsDoc = {
  openapi: "3.0.3",
  info: { title: "Pets", version: "1.0.0" },
  paths: {
    "/pets": {
      get: {
        summary: "List pets",
        parameters: [{ name: "species", in: "query", required: true, schema: { $ref: SPECIES } }],
        responses: { "200": json({ type: "array", items: { $ref: PET } }) },
      },
      post: {
        summary: "Add a pet",
        requestBody: json({ $ref: PET }),
        responses: { "201": json({ $ref: PET }) },
      },
      delete: { summary: "Remove all pets", responses: { "204": { description: "gone" } } },
    },
    "/pets/{petId}": {
      get: { summary: "One pet", responses: { "200": json({ $ref: PET }) } },
    },
  },
  components: {
    schemas: {
      Species: { type: "string", enum: ["cat", "dog"] },
      Pet: {
        type: "object",
        required: ["name"],
        properties: { name: { type: "string" }, tag: { type: "string", nullable: true } },
      },
    },
  },
};

beforeAll(async () => {
  env = await startPaidEnv();
  upstream = await listenOnLoopback(
    createServer((req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify([{ name: "Tom", path: req.url }]));
    }),
  );
  const [input, output] = [JSON.stringify(INPUT), JSON.stringify(OUTPUT)];
  writeFileSync(join(dir, "length.ts"), fnSource(`{ maxDuration: "5s", input: ${input}, output: ${output} }`));
  writeFileSync(join(dir, "bad-schema.ts"), fnSource(`{ input: { type: "strnig" } }`));
  writeFileSync(join(dir, "bad-example.ts"), fnSource(`{ input: ${input}, inputExample: { text: 3 } }`));
  writeFileSync(join(dir, "pets.json"), JSON.stringify(petsDoc));
  const login = await claw(["login", "--key", env.creatorKey, "--api-url", env.stack.apiUrl], base());
  if (login.code !== 0) throw new Error(login.stderr);
}, 180_000);

afterAll(async () => {
  await upstream?.stop();
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function getJson(path: string): Promise<any> {
  const res = await fetch(`${env.stack.apiUrl}${path}`);
  expect(res.status, path).toBe(200);
  return res.json();
}

describe("claw deploy: a function's declared schemas", () => {
  const slug = `disc-fn-${suffix}`;
  it("sends config.input/output; the per-API OpenAPI document has them and the checklist passes", async () => {
    const description = "Counts the characters of a text";
    const args = ["deploy", join(dir, "length.ts"), "--name", slug, ...pay(), "--description", description, "--json"];
    const deploy = await claw(args, base());
    expect(deploy.code, deploy.stderr + deploy.stdout).toBe(0);
    const doc = await getJson(`/t/${slug}/openapi.json`);
    const post = doc.paths["/"].post;
    expect(post.requestBody.content["application/json"].schema).toEqual(INPUT);
    expect(post.responses["200"].content["application/json"].schema).toEqual(OUTPUT);
    expect(post["x-payment-info"].price.amount).toBe("0.002");
    const checks = Object.fromEntries(deploy.json.discovery.checks.map((c: any) => [c.id, c.ok]));
    const all = { input_schema: true, output_schema: true, price: true, pay_to: true, bazaar: true, description: true };
    expect(checks).toMatchObject(all);
    expect(deploy.json.discovery.documents.openapi).toBe(`${env.stack.apiUrl}/t/${slug}/openapi.json`);
  });

  it("claw show prints the checklist on stdout and carries it in --json", async () => {
    const show = await claw(["show", slug], base());
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain("discovery  ");
    expect(show.stdout).toMatch(/✔ input schema\s+1 operation\(s\) with an input schema/);
    expect(show.stdout).toContain(`openapi  ${env.stack.apiUrl}/t/${slug}/openapi.json`);
    const json = await claw(["show", slug, "--json"], base());
    expect(json.json.tenant.slug).toBe(slug);
    expect(json.json.discovery.ready).toBe(true);
  });

  it("a deploy without schemas says what is missing in its checklist (stderr)", async () => {
    writeFileSync(join(dir, "plain.ts"), fnSource(`{ maxDuration: "5s" }`));
    const plain = `disc-plain-${suffix}`;
    const deploy = await claw(["deploy", join(dir, "plain.ts"), "--name", plain], base());
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stderr).toContain("no input/output schema declared");
    expect(deploy.stderr).toMatch(/✖ input schema\s+no input schema for GET \//);
    expect(deploy.stderr).toMatch(/✖ price\s+free/);
    expect(deploy.stdout).toBe("");
  });

  it("a schema that is not JSON Schema, or an example that does not match: ✖, exit 2, nothing deployed", async () => {
    const cases = [
      ["bad-schema.ts", "invalid_json_schema"],
      ["bad-example.ts", "invalid_example"],
    ] as const;
    for (const [file, code] of cases) {
      const name = `disc-bad-${code.replace(/_/g, "-")}-${suffix}`;
      const human = await claw(["deploy", join(dir, file), "--name", name, ...pay()], base());
      expect(human.code, human.stderr).toBe(2);
      const line = human.stderr.trim().split("\n").at(-1)!;
      expect(line.startsWith("✖ "), human.stderr).toBe(true);
      expect(line).toContain(`${code}, HTTP 400`);
      expect(line).toContain("nothing was deployed");
      const json = await claw(["deploy", join(dir, file), "--name", name, ...pay(), "--json"], base());
      expect(json.json.error).toMatchObject({ code, exitCode: 2 });
      expect((await claw(["show", name, "--json"], base())).json.error.code).toBe("tenant_not_found");
    }
  });
});

describe("claw wrap --openapi", () => {
  const slug = `disc-px-${suffix}`;
  it("lists the document's operations of the allowed methods in the per-API document and the 402", async () => {
    const wrap = await claw(
      [
        "wrap",
        `${upstream.url}/api`,
        "--name",
        slug,
        ...pay(),
        "--allow-loopback",
        "--method",
        "GET",
        "--method",
        "POST",
        "--openapi",
        join(dir, "pets.json"),
        "--description",
        "Pets of the upstream, paid per call",
        "--json",
      ],
      base(),
    );
    expect(wrap.code, wrap.stderr + wrap.stdout).toBe(0);
    const ops = wrap.json.discovery.operations.map((o: any) => `${o.method} ${o.path}`).sort();
    expect(ops).toEqual(["GET /pets", "GET /pets/{petId}", "POST /pets"]);
    const doc = await getJson(`/t/${slug}/openapi.json`);
    expect(Object.keys(doc.paths).sort()).toEqual(["/pets", "/pets/{petId}"]);
    expect(doc.paths["/pets"].delete).toBeUndefined();
    const species = doc.paths["/pets"].get.parameters.find((p: any) => p.name === "species");
    expect(species).toMatchObject({ in: "query", required: true, schema: { type: "string", enum: ["cat", "dog"] } });
    const body = doc.paths["/pets"].post.requestBody.content["application/json"].schema;
    expect(body.properties.tag).toEqual({ type: ["string", "null"] });

    const res = await fetch(`${env.stack.apiUrl}/t/${slug}/pets?species=cat`);
    expect(res.status).toBe(402);
    const challenge = JSON.parse(atob(res.headers.get("payment-required")!));
    expect(validateDiscoveryExtension(challenge.extensions.bazaar)).toEqual({ valid: true });
    expect(challenge.extensions.bazaar.info.input.method).toBe("GET");
    const queryProps = challenge.extensions.bazaar.schema.properties.input.properties.queryParams.properties;
    expect(queryProps.species).toMatchObject({ enum: ["cat", "dog"] });
  });

  it("a redeploy without --method filters by the proxy's kept methods; says what was left out", async () => {
    const rewrap = ["wrap", `${upstream.url}/api`, "--name", slug, "--allow-loopback", "--openapi"];
    const again = await claw([...rewrap, join(dir, "pets.json")], base());
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("--openapi: 3 operations declared for discovery");
    expect(again.stderr).toContain("--openapi: 1 operation uses a method the proxy does not allow (GET, POST)");
    expect(again.stderr).toMatch(/✔ input schema/);
    const narrowed = await claw(
      [
        "wrap",
        `${upstream.url}/api`,
        "--name",
        slug,
        "--allow-loopback",
        "--method",
        "GET",
        "--openapi",
        join(dir, "pets.json"),
        "--json",
      ],
      base(),
    );
    expect(narrowed.code, narrowed.stderr).toBe(0);
    const listed = narrowed.json.discovery.operations.map((o: any) => `${o.method} ${o.path}`).sort();
    expect(listed).toEqual(["GET /pets", "GET /pets/{petId}"]);
  });

  it("--operation declares a few operations without a document; a broken document is exit 2", async () => {
    const flagged = `disc-op-${suffix}`;
    const wrap = await claw(
      [
        "wrap",
        `${upstream.url}/api`,
        "--name",
        flagged,
        ...pay(),
        "--allow-loopback",
        "--operation",
        "GET /rates/{base}?symbols,amount! Latest rates",
        "--json",
      ],
      base(),
    );
    expect(wrap.code, wrap.stderr + wrap.stdout).toBe(0);
    const doc = await getJson(`/t/${flagged}/openapi.json`);
    const get = doc.paths["/rates/{base}"].get;
    expect(get.summary).toBe("Latest rates");
    expect(get.parameters.map((p: any) => [p.name, p.in, Boolean(p.required)])).toEqual(
      expect.arrayContaining([
        ["symbols", "query", false],
        ["amount", "query", true],
        ["base", "path", true],
      ]),
    );
    writeFileSync(join(dir, "broken.json"), JSON.stringify({ swagger: "2.0", paths: {} }));
    const brokenArgs = ["--name", `disc-broken-${suffix}`, "--allow-loopback", "--openapi", join(dir, "broken.json")];
    const broken = await claw(["wrap", `${upstream.url}/api`, ...brokenArgs], base());
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^✖ --openapi .*broken\.json: not an OpenAPI 3\.x document/m);
    expect((await claw(["show", `disc-broken-${suffix}`, "--json"], base())).json.error.code).toBe("tenant_not_found");
  });
});
