// The one description per API and the bazaar extension built from it: dataset columns become typed
// operations with a real example; declared function/proxy operations keep their schemas; every
// bazaar extension validates with @x402/extensions' own validators; bad declarations are refused.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { validateDiscoveryExtension, validateDiscoveryExtensionSpec } from "@x402/extensions/bazaar";
import { parseDataset } from "../../src/runtimes/dataset/parse.ts";
import { loadDataset, queryRecords, getRecord } from "../../src/runtimes/dataset/query.ts";
import { describeTenant, findOperation } from "../../src/discovery/describe.ts";
import type { ApiDescription } from "../../src/discovery/description-types.ts";
import { bazaarExtensionFor } from "../../src/discovery/bazaar.ts";
import { exampleRecord, resolveOperations } from "../../src/discovery/declarations.ts";
import { instanceProblems, jsonSchemaProblems } from "../../src/discovery/json-schema.ts";
import type { TenantConfig } from "../../src/config/tenant-config.ts";

const CSV =
  "id,city,population,capital,note\n1,Paris,2161000,true,\n2,Lyon,513275,false,big\n3,Berlin,3645000,true,x\n";
const PAY_TO = "0x1111111111111111111111111111111111111111";

function base(resource: TenantConfig["resource"], over: Partial<TenantConfig> = {}): TenantConfig {
  return {
    slug: "cities",
    owner: "c1",
    version: 3,
    resourceType: resource.type,
    resource,
    description: "World cities",
    directory: "geo",
    priceUsd: 0.001,
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
    ...over,
  } as TenantConfig;
}

function datasetConfig(csv = CSV): { config: TenantConfig; ds: ReturnType<typeof parseDataset> } {
  const ds = parseDataset(csv, "csv");
  const example = exampleRecord(ds.schema.fields, ds.rows[0]);
  const resource = {
    type: "dataset" as const,
    format: "csv" as const,
    idField: ds.schema.idField,
    rows: ds.schema.rows,
    bytes: csv.length,
    dataKey: "k",
    codeKey: "c",
    fields: ds.schema.fields,
    ...(example ? { example } : {}),
  };
  return { config: base(resource), ds };
}

function expectValidBazaar(d: ApiDescription, method: string, path: string, basePath = ""): any {
  const ext = bazaarExtensionFor(d, method, path, basePath);
  expect(ext).not.toBeNull();
  const bazaar = (ext as any).bazaar;
  expect(validateDiscoveryExtension(bazaar)).toEqual({ valid: true });
  expect(validateDiscoveryExtensionSpec(bazaar).valid).toBe(true);
  return bazaar;
}

describe("dataset description", () => {
  it("types filters by column, keeps the reserved parameters and the limits of the engine", () => {
    const { config } = datasetConfig();
    const d = describeTenant(config);
    const list = findOperation(d, "GET", "/v1/records")!;
    const byName = Object.fromEntries(list.parameters.map((p) => [p.name, p.schema]));
    expect(byName.population).toEqual({ type: "integer" });
    expect(byName.capital).toEqual({ type: "boolean" });
    expect(byName.city).toEqual({ type: "string" });
    expect(byName.limit).toMatchObject({ type: "integer", minimum: 1, maximum: 1000 });
    for (const name of ["q", "sort", "fields", "offset", "cursor"]) expect(byName[name]).toBeDefined();
    expect(findOperation(d, "GET", "/v1/records/2")?.path).toBe("/v1/records/{id}");
    expect(findOperation(d, "HEAD", "/v1/schema")?.path).toBe("/v1/schema");
    expect(findOperation(d, "POST", "/v1/records")).toBeNull();
    expect(d.payment).toMatchObject({
      amountUsd: "0.001",
      amountAtomic: "1000",
      payTo: PAY_TO,
      network: "eip155:84532",
    });
  });

  it("examples are the real first record and real engine answers validate against the declared schemas", () => {
    const { config, ds } = datasetConfig();
    const d = describeTenant(config);
    const loaded = loadDataset(JSON.parse(JSON.stringify(ds)));
    const list = findOperation(d, "GET", "/v1/records")!;
    const one = findOperation(d, "GET", "/v1/records/1")!;
    expect(one.output.example).toEqual(getRecord(loaded, "1"));
    expect(list.output.example).toEqual(queryRecords(loaded, new URLSearchParams("limit=1")));
    for (const op of d.operations) expect(instanceProblems(op.output.schema, op.output.example)).toEqual([]);
    expect(
      instanceProblems(list.output.schema, queryRecords(loaded, new URLSearchParams("capital=true&sort=-population"))),
    ).toEqual([]);
  });

  it("a field named like a reserved parameter is filtered as filter[name]", () => {
    const { config } = datasetConfig("id,limit\n1,5\n");
    const names = findOperation(describeTenant(config), "GET", "/v1/records")!.parameters.map((p) => p.name);
    expect(names).toContain("filter[limit]");
    expect(names.filter((n) => n === "limit")).toHaveLength(1);
  });

  it("every dataset operation's bazaar extension validates, with method, params and pathParams", () => {
    const d = describeTenant(datasetConfig().config);
    const list = expectValidBazaar(d, "GET", "/v1/records", "/t/cities");
    expect(list.info.input.method).toBe("GET");
    expect(list.schema.properties.input.properties.queryParams.properties.population).toEqual({ type: "integer" });
    expect(list.info.output.example.items[0].city).toBe("Paris");
    const one = expectValidBazaar(d, "GET", "/v1/records/3", "/t/cities");
    expect(one.routeTemplate).toBe("/t/cities/v1/records/:id");
    expect(one.info.input.pathParams).toEqual({ id: "3" });
    expectValidBazaar(d, "GET", "/v1/schema");
  });
});

describe("declared operations", () => {
  const fn = (operations: unknown) =>
    base({
      type: "function",
      allowedHosts: [],
      maxDurationMs: 1000,
      exposeEnv: [],
      bytes: 1,
      sha256: "0".repeat(64),
      codeKey: "k",
      operations,
    } as never);

  it("config.input/output shorthand becomes POST / with a validated body example", () => {
    const ops = resolveOperations(
      {
        input: { type: "object", properties: { text: { type: "string", minLength: 3 } }, required: ["text"] },
        output: { type: "object", properties: { n: { type: "integer" } } },
      },
      undefined,
    );
    const d = describeTenant(fn(ops));
    const op = findOperation(d, "POST", "/")!;
    expect(op.body?.example).toEqual({ text: "example" });
    const bazaar = expectValidBazaar(d, "POST", "/");
    expect(bazaar.info.input).toMatchObject({ method: "POST", bodyType: "json", body: { text: "example" } });
    expect(bazaar.schema.properties.input.properties.body.required).toEqual(["text"]);
  });

  it("GET operations expose the input's properties as query parameters", () => {
    const ops = resolveOperations(
      {
        operations: [
          {
            method: "GET",
            path: "/quote/{symbol}",
            input: {
              type: "object",
              properties: { currency: { type: "string", enum: ["USD", "EUR"] } },
              required: ["currency"],
            },
            output: { type: "object" },
            outputExample: { price: 1 },
          },
        ],
      },
      undefined,
    );
    const d = describeTenant(fn(ops));
    const op = findOperation(d, "GET", "/quote/BTC")!;
    expect(op.parameters.map((p) => `${p.in}:${p.name}:${p.required}`)).toEqual([
      "path:symbol:true",
      "query:currency:true",
    ]);
    const bazaar = expectValidBazaar(d, "GET", "/quote/BTC");
    expect(bazaar.info.input.queryParams).toEqual({ currency: "USD" });
    expect(bazaar.info.input.pathParams).toEqual({ symbol: "BTC" });
  });

  it("an undeclared function gets no bazaar listing (no schema, no catalog entry)", () => {
    const d = describeTenant(fn(undefined));
    expect(d.operations).toHaveLength(1);
    expect(bazaarExtensionFor(d, "GET", "/")).toBeNull();
  });

  it("a proxy keeps only the operations of its allowed methods", () => {
    const ops = resolveOperations(
      {
        operations: [
          { method: "GET", path: "/a" },
          { method: "DELETE", path: "/a" },
        ],
      },
      undefined,
      ["GET"],
    );
    expect(ops?.map((o) => o.method)).toEqual(["GET"]);
    // A redeploy that sends no operations keeps the previous ones, still filtered by the methods.
    const before = [
      { method: "GET" as const, path: "/a" },
      { method: "POST" as const, path: "/b" },
    ];
    expect(resolveOperations({}, before, ["POST"])?.map((o) => o.path)).toEqual(["/b"]);
    expect(resolveOperations({}, before)).toEqual(before);
  });

  it("refuses a schema that is not JSON Schema, an example that does not match, a duplicate", () => {
    const code = (f: () => unknown) => {
      try {
        f();
        return "none";
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(code(() => resolveOperations({ input: { type: "strin" } }, undefined))).toBe("invalid_json_schema");
    expect(code(() => resolveOperations({ output: { properties: { a: 5 } } }, undefined))).toBe("invalid_json_schema");
    expect(code(() => resolveOperations({ input: { $ref: "https://evil.example/s.json" } }, undefined))).toBe(
      "invalid_json_schema",
    );
    expect(code(() => resolveOperations({ input: { type: "string", pattern: "(" } }, undefined))).toBe(
      "invalid_json_schema",
    );
    expect(
      code(() =>
        resolveOperations({ operations: [{ method: "GET", path: "/", input: { type: "string" } }] }, undefined),
      ),
    ).toBe("invalid_json_schema");
    expect(
      code(() =>
        resolveOperations(
          { operations: [{ method: "POST", path: "/", input: { type: "integer" }, inputExample: "x" }] },
          undefined,
        ),
      ),
    ).toBe("invalid_example");
    expect(
      code(() =>
        resolveOperations(
          {
            operations: [
              { method: "GET", path: "/" },
              { method: "GET", path: "/" },
            ],
          },
          undefined,
        ),
      ),
    ).toBe("invalid_config");
    expect(
      code(() =>
        resolveOperations(
          { input: { type: ["object", "null"], properties: { a: { type: "integer", minimum: 0 } } } },
          undefined,
        ),
      ),
    ).toBe("none");
  });

  it("local references are inlined before storing; a recursive one is refused", () => {
    const input = { type: "object", $defs: { n: { type: "integer" } }, properties: { a: { $ref: "#/$defs/n" } } };
    const [op] = resolveOperations({ input }, undefined)!;
    expect(op!.input).toEqual({ type: "object", properties: { a: { type: "integer" } } });
    const bazaar = expectValidBazaar(describeTenant(fn([op])), "POST", "/");
    expect(bazaar.schema.properties.input.properties.body.properties.a).toEqual({ type: "integer" });
    const recursive = {
      $defs: { node: { type: "object", properties: { next: { $ref: "#/$defs/node" } } } },
      $ref: "#/$defs/node",
    };
    let code = "none";
    try {
      resolveOperations({ input: recursive }, undefined);
    } catch (e) {
      code = (e as { code: string }).code;
    }
    expect(code).toBe("invalid_json_schema");
  });

  it("jsonSchemaProblems never throws on arbitrary JSON and accepts every boolean schema", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => Array.isArray(jsonSchemaProblems(value))),
      { numRuns: 300 },
    );
    expect(jsonSchemaProblems(true)).toEqual([]);
    const local = { $defs: { n: { type: "integer" } }, properties: { a: { $ref: "#/$defs/n" } } };
    expect(jsonSchemaProblems(local)).toEqual([]);
    expect(jsonSchemaProblems({ properties: { a: { $ref: "#/components/schemas/N" } } })[0]).toContain(
      "does not resolve",
    );
    expect(jsonSchemaProblems("string")).not.toEqual([]);
  });
});
