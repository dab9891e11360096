// The discovery OpenAPI documents validate as OpenAPI 3.1 with a maintained validator
// (@seriousme/openapi-schema-validator, which reads its meta-schemas from disk, hence a Node test),
// and every example in them validates against its schema (ajv 2020-12, independent of the
// @cfworker validator the platform uses). Built by the real builders from real parsed datasets.
import { describe, expect, it } from "vitest";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";

// The builders live in the worker tree, whose files the Node typecheck cannot compile (worker
// types, parameter properties): they are loaded at run time by computed specifiers, untyped.
const load = (path: string): Promise<any> => import(path);
const { parseDataset } = await load("../../src/runtimes/dataset/parse.ts");
const { describeTenant } = await load("../../src/discovery/describe.ts");
const { exampleRecord, resolveOperations } = await load("../../src/discovery/declarations.ts");
const { apiOpenApi } = await load("../../src/discovery/openapi.ts");
const { platformOpenApi } = await load("../../src/discovery/platform-docs.ts");
const { DISCOVERY_ROUTES } = await load("../../src/discovery/routes-doc.ts");
const { OPENAPI } = await load("../../src/public/openapi.ts");
type TenantConfig = any;
type ApiDescription = any;

const PAY_TO = "0x1111111111111111111111111111111111111111";

function config(slug: string, resource: unknown, priceUsd = 0.001): TenantConfig {
  return {
    slug,
    owner: "c",
    version: 1,
    resourceType: (resource as { type: string }).type,
    resource,
    description: `${slug} API`,
    directory: "general",
    priceUsd,
    payTo: PAY_TO,
    network: "eip155:84532",
    hosts: [],
    plan: "free",
    rateLimit: {},
    usageLimit: {},
    spendLimit: {},
    secretNames: [],
    createdAt: 1,
    updatedAt: 1,
  };
}

function dataset(slug: string, csv: string, priceUsd = 0.001): TenantConfig {
  const ds = parseDataset(csv, "csv");
  return config(
    slug,
    {
      type: "dataset",
      format: "csv",
      idField: ds.schema.idField,
      rows: ds.schema.rows,
      bytes: csv.length,
      dataKey: "d",
      codeKey: "c",
      fields: ds.schema.fields,
      example: exampleRecord(ds.schema.fields, ds.rows[0]),
    },
    priceUsd,
  );
}

const fnOps = resolveOperations(
  {
    operations: [
      {
        method: "POST",
        path: "/summarize",
        input: { type: "object", properties: { text: { type: "string", minLength: 1 } }, required: ["text"] },
        output: { type: "object", properties: { summary: { type: "string" } }, required: ["summary"] },
        outputExample: { summary: "short" },
      },
      { method: "GET", path: "/items/{id}", input: { type: "object", properties: { verbose: { type: "boolean" } } } },
    ],
  },
  undefined,
);

const descriptions: ApiDescription[] = [
  describeTenant(dataset("cities", "id,city,population,capital,note\n1,Paris,2161000,true,\n2,Lyon,513275,false,x\n"), {
    name: "Ada",
  }),
  describeTenant(dataset("no-id", "limit,score\n5,1.5\n")),
  describeTenant(dataset("free-data", "a\n1\n", 0)),
  describeTenant(
    config("summarizer", {
      type: "function",
      allowedHosts: [],
      maxDurationMs: 1000,
      exposeEnv: [],
      bytes: 1,
      sha256: "0".repeat(64),
      codeKey: "k",
      operations: fnOps,
    }),
  ),
  describeTenant(
    config("bare-fn", {
      type: "function",
      allowedHosts: [],
      maxDurationMs: 1000,
      exposeEnv: [],
      bytes: 1,
      sha256: "0".repeat(64),
      codeKey: "k",
    }),
  ),
];

async function expectOpenApi31(doc: unknown): Promise<void> {
  const validator = new Validator();
  const result = await validator.validate(doc as never);
  expect(result.errors ?? [], JSON.stringify(result.errors ?? []).slice(0, 2000)).toEqual([]);
  expect(result.valid).toBe(true);
  expect(validator.version).toBe("3.1");
}

/** Every (schema, example) pair of a document: parameters, request bodies, responses. */
function examples(doc: any): { where: string; schema: unknown; example: unknown }[] {
  const out: { where: string; schema: unknown; example: unknown }[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      for (const p of op.parameters ?? [])
        if ("example" in p) out.push({ where: `${method} ${path} ${p.name}`, schema: p.schema, example: p.example });
      const body = op.requestBody?.content?.["application/json"];
      if (body && "example" in body)
        out.push({ where: `${method} ${path} body`, schema: body.schema, example: body.example });
      for (const [status, r] of Object.entries<any>(op.responses ?? {})) {
        const c = r.content?.["application/json"];
        if (c && "example" in c)
          out.push({ where: `${method} ${path} ${status}`, schema: c.schema, example: c.example });
      }
    }
  }
  return out;
}

describe("discovery OpenAPI documents", () => {
  it("each per-API document is valid OpenAPI 3.1 and its examples match its schemas", async () => {
    const ajv = new Ajv2020({ strict: false });
    for (const d of descriptions) {
      const doc = apiOpenApi(d, `https://claw.example/t/${d.slug}`);
      await expectOpenApi31(doc);
      const pairs = examples(doc);
      if (d.slug === "cities" || d.slug === "summarizer") expect(pairs.length).toBeGreaterThanOrEqual(3);
      for (const { where, schema, example } of pairs)
        expect(ajv.validate(schema as object, example), `${d.slug} ${where}: ${ajv.errorsText()}`).toBe(true);
    }
  });

  it("the platform document (own routes + every paid tenant operation) is valid OpenAPI 3.1", async () => {
    const doc = platformOpenApi({ ...OPENAPI, paths: { ...OPENAPI.paths, ...DISCOVERY_ROUTES } }, descriptions);
    await expectOpenApi31(doc);
    expect(doc.paths["/t/cities/v1/records"].get["x-payment-info"].price).toEqual({
      mode: "fixed",
      currency: "USD",
      amount: "0.001",
    });
    expect(doc.paths["/t/summarizer/summarize"].post.requestBody.content["application/json"].schema.required).toEqual([
      "text",
    ]);
    expect(Object.keys(doc.paths).some((p) => p.startsWith("/t/free-data/"))).toBe(false);
  });
});
