// What a creator may declare for discovery (docs/ARCHITECTURE.md §11), and its deploy-time check.
// A function or proxy tenant declares operations: method + path + optional input/output JSON
// Schemas and examples. A function's `export const config = {input, output}` arrives as
// `resource.input` / `resource.output` (shorthand for one `POST /` operation). A proxy's list
// (flags, or `claw wrap --openapi`) is kept to the methods the proxy allows. Datasets declare
// nothing: their columns are the description.
//
// Refusals have stable codes: `invalid_json_schema` (a schema that is not JSON Schema) and
// `invalid_example` (an example that does not validate against its schema).
import * as v from "valibot";
import { ApiError } from "../http/errors.ts";
import { inlineRefs, instanceProblems, jsonSchemaProblems, type JsonSchema } from "./json-schema.ts";

export const MAX_OPERATIONS = 50;

const SchemaValue = v.union([v.boolean(), v.record(v.string(), v.unknown())]);
export const OperationMethodSchema = v.pipe(
  v.string(),
  v.toUpperCase(),
  v.picklist(["GET", "POST", "PUT", "PATCH", "DELETE"]),
);
/** A path template relative to the API root; `{name}` segments are path parameters. */
export const OperationPathSchema = v.pipe(
  v.string(),
  v.maxLength(200),
  v.regex(/^\/(?:[A-Za-z0-9._~!$&'()*+,;=:@-]+|\{[A-Za-z_][A-Za-z0-9_]{0,63}\}|\/)*$/, "a path like /v1/items/{id}"),
  v.check((p) => !p.split("/").includes(".."), "no '..' segments"),
);

export const OperationDeclSchema = v.strictObject({
  method: OperationMethodSchema,
  path: OperationPathSchema,
  summary: v.optional(v.pipe(v.string(), v.maxLength(200))),
  description: v.optional(v.pipe(v.string(), v.maxLength(2000))),
  /** GET/DELETE: an object schema whose properties are the query parameters. Else: the JSON body. */
  input: v.optional(SchemaValue),
  /** The JSON response body. */
  output: v.optional(SchemaValue),
  inputExample: v.optional(v.unknown()),
  outputExample: v.optional(v.unknown()),
});
export type OperationDecl = v.InferOutput<typeof OperationDeclSchema>;
export const OperationsSchema = v.pipe(v.array(OperationDeclSchema), v.maxLength(MAX_OPERATIONS));

/** A dataset column as stored with the tenant (the parsed schema, so discovery needs no R2 read). */
export const DatasetFieldSchema = v.strictObject({
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
  type: v.picklist(["integer", "number", "boolean", "string"]),
  nullable: v.boolean(),
});
const CellSchema = v.union([v.string(), v.number(), v.boolean(), v.null()]);
export const DatasetExampleSchema = v.record(v.string(), CellSchema);

/** Longest string cell kept in the stored example record (keeps the tenant config small). */
export const EXAMPLE_CELL_CHARS = 200;

export function exampleRecord(
  fields: readonly { name: string }[],
  row: readonly unknown[] | undefined,
): Record<string, string | number | boolean | null> | undefined {
  if (!row) return undefined;
  const out: Record<string, string | number | boolean | null> = {};
  fields.forEach((f, i) => {
    const cell = row[i] as string | number | boolean | null | undefined;
    out[f.name] =
      typeof cell === "string" && cell.length > EXAMPLE_CELL_CHARS ? cell.slice(0, EXAMPLE_CELL_CHARS) : (cell ?? null);
  });
  return out;
}

/** Function resource input fields that feed discovery (merged into the deploy config schema). */
export const FunctionDiscoveryInput = {
  input: v.optional(SchemaValue),
  output: v.optional(SchemaValue),
  operations: v.optional(OperationsSchema),
};

interface DeclaredInput {
  input?: JsonSchema | undefined;
  output?: JsonSchema | undefined;
  operations?: OperationDecl[] | undefined;
}

/**
 * The operations to store for this deploy: what was sent (the shorthand becomes `POST /`), else
 * what the previous version had. Every schema and example is checked; refusals are ApiErrors.
 */
export function resolveOperations(
  sent: DeclaredInput | undefined,
  before: OperationDecl[] | undefined,
  allowedMethods?: readonly string[],
): OperationDecl[] | undefined {
  let ops = sent?.operations;
  if (!ops && (sent?.input !== undefined || sent?.output !== undefined)) {
    ops = [
      {
        method: "POST",
        path: "/",
        ...(sent.input !== undefined ? { input: sent.input } : {}),
        ...(sent.output !== undefined ? { output: sent.output } : {}),
      },
    ];
  }
  // A proxy forwards only its allowed methods; an operation it would refuse is not listed (also
  // when a redeploy narrows the methods and keeps the previous operations).
  const allowed = (list: OperationDecl[]) =>
    allowedMethods ? list.filter((op) => allowedMethods.includes(op.method)) : list;
  if (!ops) return before && allowed(before);
  ops = ops.map((op, i) =>
    inlineOperation(checkOperation(op, `resource.operations[${i}]`), `resource.operations[${i}]`),
  );
  const seen = new Set<string>();
  for (const op of ops) {
    const key = `${op.method} ${op.path}`;
    if (seen.has(key))
      throw new ApiError(400, "invalid_config", `resource.operations: ${key} is declared twice`, [
        { path: "resource.operations", message: `${key} twice` },
      ]);
    seen.add(key);
  }
  return allowed(ops);
}

/** The operation with its schemas' local references inlined (stored like that, ready to embed). */
function inlineOperation(op: OperationDecl, path: string): OperationDecl {
  const out: OperationDecl = { ...op };
  for (const key of ["input", "output"] as const) {
    const schema = op[key];
    if (schema === undefined) continue;
    const inlined = inlineRefs(schema);
    if (inlined === null) {
      const message = `${path}.${key}: a recursive $ref cannot be embedded in discovery documents`;
      throw new ApiError(400, "invalid_json_schema", message, { problems: [message] });
    }
    out[key] = inlined;
  }
  return out;
}

function checkOperation(op: OperationDecl, path: string): OperationDecl {
  for (const key of ["input", "output"] as const) {
    const schema = op[key];
    if (schema === undefined) continue;
    const problems = jsonSchemaProblems(schema, `${path}.${key}`);
    if (problems.length) throw new ApiError(400, "invalid_json_schema", `${problems[0]}`, { problems });
  }
  const queryMethod = op.method === "GET" || op.method === "DELETE";
  if (queryMethod && op.input !== undefined && !isObjectSchema(op.input)) {
    throw new ApiError(
      400,
      "invalid_json_schema",
      `${path}.input: a ${op.method} operation's input is an object schema of its query parameters`,
      { problems: [`${path}.input: type must be "object"`] },
    );
  }
  for (const [example, schema, key] of [
    [op.inputExample, op.input, "inputExample"],
    [op.outputExample, op.output, "outputExample"],
  ] as const) {
    if (example === undefined || schema === undefined) continue;
    const problems = instanceProblems(schema, example);
    if (problems.length)
      throw new ApiError(400, "invalid_example", `${path}.${key} does not match its schema: ${problems[0]}`, {
        problems,
      });
  }
  return op;
}

function isObjectSchema(schema: JsonSchema): boolean {
  return (
    typeof schema === "object" &&
    (schema.type === "object" || (schema.type === undefined && typeof schema.properties === "object"))
  );
}
