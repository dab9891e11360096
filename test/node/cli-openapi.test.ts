// Pure parts of the CLI's discovery declarations: an upstream OpenAPI 3.x document → the proxy's
// `resource.operations` (refs resolved, 3.0 dialect → JSON Schema 2020-12, methods filtered), the
// `--operation` flag, a function's exported config, and the readiness checklist text. What the
// conversion produces is checked with the platform's own schema rules (src/discovery/json-schema.ts),
// so a document the CLI accepts is one the deploy accepts.
import fc from "fast-check";
import { createServer } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliError } from "../../cli/core/errors.ts";
import { functionDiscovery } from "../../cli/deploy/function-discovery.ts";
import { loadOperations, parseDocument } from "../../cli/deploy/openapi-load.ts";
import { listenOnLoopback } from "../../cli/local/ports.ts";
import { OpenApiError, operationsFromOpenApi, resolveRefs, toJsonSchema } from "../../cli/deploy/openapi.ts";
import { parseOperationFlag } from "../../cli/deploy/operation-flag.ts";
import { readinessText } from "../../cli/deploy/readiness.ts";
import { instanceProblems, jsonSchemaProblems } from "../../src/discovery/json-schema.ts";

const petstore = {
  openapi: "3.0.3",
  info: { title: "pets", version: "1" },
  paths: {
    "/pets": {
      parameters: [{ name: "limit", in: "query", schema: { type: "integer", minimum: 1 }, example: 5 }],
      get: {
        summary: "List pets",
        parameters: [
          {
            name: "species",
            in: "query",
            required: true,
            description: "cat or dog",
            schema: { $ref: "#/components/schemas/Species" },
            example: "cat",
          },
          { name: "x-trace", in: "header", schema: { type: "string" } },
        ],
        responses: {
          "200": {
            content: {
              "application/json": {
                schema: { type: "array", items: { $ref: "#/components/schemas/Pet" } },
                example: [{ id: 1, name: "Tom", tag: null }],
              },
            },
          },
        },
      },
      post: {
        requestBody: { content: { "application/json": { schema: { $ref: "#/components/schemas/Pet" } } } },
        responses: { "201": { content: { "application/json": { schema: { $ref: "#/components/schemas/Pet" } } } } },
      },
    },
    "/pets/{petId}": {
      get: {
        description: "One pet",
        parameters: [{ name: "petId", in: "path", required: true, schema: { type: "integer" } }],
        responses: { "200": { content: { "application/json": { schema: { $ref: "#/components/schemas/Pet" } } } } },
      },
      delete: { responses: { "204": { description: "gone" } } },
    },
    "/bad/{pet-id}": { get: { responses: {} } },
  },
  components: {
    schemas: {
      Species: { type: "string", enum: ["cat", "dog"] },
      Pet: {
        type: "object",
        required: ["id", "name"],
        properties: {
          id: { type: "integer", minimum: 0, exclusiveMinimum: true },
          name: { type: "string", example: "Tom" },
          tag: { type: "string", nullable: true },
          nullable: { type: "boolean" },
        },
      },
    },
  },
};

describe("OpenAPI → operations", () => {
  it("resolves #/components refs, converts the 3.0 dialect and keeps only allowed methods", () => {
    const { operations, skipped, otherMethods } = operationsFromOpenApi(petstore, ["GET"]);
    expect(operations.map((o) => `${o.method} ${o.path}`)).toEqual(["GET /pets", "GET /pets/{petId}"]);
    expect(otherMethods).toBe(2);
    expect(skipped).toEqual(["GET /bad/{pet-id}: path parameters must be {name} of letters, digits and _"]);
    const list = operations[0]!;
    expect(list.summary).toBe("List pets");
    expect(list.input).toEqual({
      type: "object",
      properties: {
        limit: { type: "integer", minimum: 1 },
        species: { type: "string", enum: ["cat", "dog"], description: "cat or dog" },
      },
      required: ["species"],
    });
    expect(list.inputExample).toEqual({ limit: 5, species: "cat" });
    const pet = (list.output as { items: Record<string, any> }).items;
    expect(pet.properties.id).toEqual({ type: "integer", exclusiveMinimum: 0 });
    expect(pet.properties.tag).toEqual({ type: ["string", "null"] });
    expect(pet.properties.name).toEqual({ type: "string", examples: ["Tom"] });
    expect(pet.properties.nullable).toEqual({ type: "boolean" }); // a property named like a keyword stays
    expect(list.outputExample).toEqual([{ id: 1, name: "Tom", tag: null }]);
    expect(operations[1]).toMatchObject({ description: "One pet", input: { type: "object", properties: {} } });
  });

  it("uses the JSON request body as the input of POST, and drops a response without JSON", () => {
    const { operations } = operationsFromOpenApi(petstore, ["GET", "POST", "DELETE"]);
    const post = operations.find((o) => o.method === "POST")!;
    expect(post.input).toMatchObject({ type: "object", required: ["id", "name"] });
    expect(post.output).toEqual(post.input);
    const del = operations.find((o) => o.method === "DELETE")!;
    expect(del.output).toBeUndefined();
  });

  it("produces schemas and examples the platform accepts", () => {
    const { operations } = operationsFromOpenApi(petstore, ["GET", "POST", "DELETE"]);
    for (const op of operations) {
      for (const key of ["input", "output"] as const) {
        if (op[key] === undefined) continue;
        expect(jsonSchemaProblems(op[key]), `${op.method} ${op.path} ${key}`).toEqual([]);
        expect(JSON.stringify(op[key])).not.toContain("$ref");
      }
      const schema = (s: unknown) => s as Record<string, unknown>;
      if (op.inputExample !== undefined) expect(instanceProblems(schema(op.input), op.inputExample)).toEqual([]);
      if (op.outputExample !== undefined) expect(instanceProblems(schema(op.output), op.outputExample)).toEqual([]);
    }
  });

  it("refuses what cannot be embedded: remote, dangling and recursive refs, non-3.x documents", () => {
    const doc = (schema: unknown, components = {}) => ({
      openapi: "3.1.0",
      paths: { "/x": { post: { requestBody: { content: { "application/json": { schema } } } } } },
      components: { schemas: components },
    });
    const post = (d: unknown) => () => operationsFromOpenApi(d, ["POST"]);
    expect(post(doc({ $ref: "https://x.test/s.json" }))).toThrow(/outside the document/);
    expect(post(doc({ $ref: "#/components/schemas/Nope" }))).toThrow(/does not resolve/);
    const tree = { type: "object", properties: { child: { $ref: "#/components/schemas/Tree" } } };
    expect(post(doc({ $ref: "#/components/schemas/Tree" }, { Tree: tree }))).toThrow(/recursive/);
    expect(() => operationsFromOpenApi({ swagger: "2.0", paths: {} }, ["GET"])).toThrow(OpenApiError);
    expect(() => operationsFromOpenApi({ openapi: "2.0" }, ["GET"])).toThrow(/OpenAPI 3\.x/);
  });

  it("keeps siblings of a $ref with allOf, and caps the list at 50 operations", () => {
    const resolved = resolveRefs({ $ref: "#/a", description: "d" }, { a: { type: "string" } });
    expect(resolved).toEqual({ allOf: [{ type: "string" }, { description: "d" }] });
    const paths = Object.fromEntries(Array.from({ length: 55 }, (_, i) => [`/p${i}`, { get: {} }]));
    const { operations, skipped } = operationsFromOpenApi({ openapi: "3.1.0", paths }, ["GET"]);
    expect(operations).toHaveLength(50);
    expect(skipped).toHaveLength(5);
  });

  it("reads YAML as well as JSON", () => {
    const yaml = "openapi: 3.1.0\npaths:\n  /hi:\n    get:\n      summary: Say hi\n";
    const { operations } = operationsFromOpenApi(parseDocument(yaml, "x.yaml"), ["GET"]);
    const input = { type: "object", properties: {} };
    expect(operations).toEqual([{ method: "GET", path: "/hi", summary: "Say hi", input }]);
    expect(() => parseDocument("{ not: [json", "x")).toThrow(CliError);
  });

  it("property: any JSON value either converts or is refused with an OpenApiError", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (paths, anything) => {
        for (const doc of [anything, { openapi: "3.0.0", paths }, { openapi: "3.1.0", paths: { "/a": paths } }]) {
          try {
            const { operations } = operationsFromOpenApi(doc, ["GET", "POST", "PUT", "PATCH", "DELETE"]);
            expect(operations.length).toBeLessThanOrEqual(50);
          } catch (err) {
            expect(err).toBeInstanceOf(OpenApiError);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("property: 3.0 schemas built from keywords convert to schemas the platform accepts", () => {
    const leaf = fc.record(
      {
        type: fc.constantFrom("string", "integer", "number", "boolean"),
        nullable: fc.boolean(),
        example: fc.constant("e"),
        minimum: fc.integer({ min: -5, max: 5 }),
        exclusiveMinimum: fc.boolean(),
      },
      { requiredKeys: ["type"] },
    );
    const schema = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        leaf,
        fc.record({ type: fc.constant("array"), items: tie("node") }),
        fc.record({
          type: fc.constant("object"),
          properties: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), tie("node"), { maxKeys: 3 }),
        }),
      ),
    })).node;
    fc.assert(
      fc.property(schema, (s) => {
        expect(jsonSchemaProblems(toJsonSchema(s))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe("--openapi sources", () => {
  it("reads a YAML file and an http URL; a missing file or a 404 is one usage error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "claw-openapi-"));
    const yaml = "openapi: 3.0.0\npaths:\n  /a:\n    get: {summary: A}\n    post: {summary: B}\n";
    writeFileSync(join(dir, "doc.yaml"), yaml);
    const server = await listenOnLoopback(
      createServer((req, res) => {
        res.statusCode = req.url === "/openapi.json" ? 200 : 404;
        res.end(req.url === "/openapi.json" ? JSON.stringify(petstore) : "no");
      }),
    );
    try {
      const fromFile = await loadOperations("doc.yaml", ["GET"], dir);
      expect(fromFile).toMatchObject({ operations: [{ method: "GET", path: "/a", summary: "A" }], otherMethods: 1 });
      const fromUrl = await loadOperations(`${server.url}/openapi.json`, ["GET"]);
      expect(fromUrl.operations.map((o) => o.path)).toEqual(["/pets", "/pets/{petId}"]);
      await expect(loadOperations(`${server.url}/missing.json`, ["GET"])).rejects.toThrow(/HTTP 404/);
      const missing = { exitCode: 2, code: "openapi_unreadable" };
      await expect(loadOperations("nope.json", ["GET"], dir)).rejects.toMatchObject(missing);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("--operation", () => {
  it("parses method, path, query parameters (! = required) and a summary", () => {
    expect(parseOperationFlag("get /rates/{base}?symbols,amount! Latest rates")).toEqual({
      method: "GET",
      path: "/rates/{base}",
      summary: "Latest rates",
      input: {
        type: "object",
        properties: { symbols: { type: "string" }, amount: { type: "string" } },
        required: ["amount"],
      },
    });
    expect(parseOperationFlag("POST /convert")).toEqual({ method: "POST", path: "/convert" });
    expect(() => parseOperationFlag("POST /convert?x")).toThrow(/for GET and DELETE/);
    expect(() => parseOperationFlag("HEAD /x")).toThrow(CliError);
    expect(() => parseOperationFlag("/x")).toThrow(/--operation must look like/);
  });

  it("property: any text is an operation or one usage error", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          const op = parseOperationFlag(text);
          expect(op.path.startsWith("/")).toBe(true);
        } catch (err) {
          expect((err as CliError).exitCode).toBe(2);
        }
      }),
    );
  });
});

describe("function config discovery", () => {
  const input = { type: "object", properties: { text: { type: "string" } } };
  it("sends input/output as the shorthand, and examples as the one POST / operation", () => {
    expect(functionDiscovery({ input, output: true })).toEqual({ input, output: true });
    expect(functionDiscovery({ input, inputExample: { text: "a" } })).toEqual({
      operations: [{ method: "POST", path: "/", input, inputExample: { text: "a" } }],
    });
    const operations = [{ method: "GET", path: "/" }];
    expect(functionDiscovery({ operations })).toEqual({ operations });
    expect(functionDiscovery({})).toEqual({});
  });
  it("refuses shapes that are not schemas or an operations list", () => {
    expect(() => functionDiscovery({ input: "string" })).toThrow(/config.input must be a JSON Schema/);
    expect(() => functionDiscovery({ operations: {} })).toThrow(/must be an array/);
    expect(() => functionDiscovery({ input, operations: [] })).toThrow(/not both/);
  });
});

describe("readiness checklist", () => {
  it("prints one line per check and the OpenAPI URL", () => {
    const text = readinessText({
      slug: "s",
      version: 1,
      ready: false,
      checks: [
        { id: "input_schema", ok: true, message: "1 operation(s) with an input schema" },
        { id: "description", ok: false, message: "only 3 characters" },
      ],
      operations: [],
      documents: { openapi: "http://x/t/s/openapi.json", wellKnown: "", markdown: "", platformOpenapi: "", hosts: [] },
    });
    expect(text.split("\n")).toEqual([
      "  discovery  not ready for discovery yet",
      "    ✔ input schema  1 operation(s) with an input schema",
      "    ✖ description   only 3 characters",
      "    openapi  http://x/t/s/openapi.json",
    ]);
  });
});
