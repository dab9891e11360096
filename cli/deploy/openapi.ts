// Pure: an upstream OpenAPI 3.x document → the `resource.operations` a proxy declares for
// discovery (README "Discovery", docs/ARCHITECTURE.md §11). The platform stores schemas with
// local `$ref`s inlined and refuses references that point outside the schema itself, so the
// document's `#/components/...` references are resolved here, against the whole document.
// OpenAPI 3.0 schema dialect (`nullable`, boolean `exclusiveMinimum`, `example`) becomes
// JSON Schema 2020-12, which the platform validates. Only methods the proxy allows are kept.
import * as v from "valibot";

export interface OperationDecl {
  method: string;
  path: string;
  summary?: string;
  description?: string;
  input?: unknown;
  output?: unknown;
  inputExample?: unknown;
  outputExample?: unknown;
}

export interface Converted {
  operations: OperationDecl[];
  /** Operations left out, each with why (a method the proxy refuses is not a warning). */
  skipped: string[];
  /** How many operations use a method the proxy does not allow (left out, not an error). */
  otherMethods: number;
}

/** The platform's limit (src/discovery/declarations.ts MAX_OPERATIONS). */
export const MAX_OPERATIONS = 50;
const DISCOVERABLE = ["GET", "POST", "PUT", "PATCH", "DELETE"];
/** The platform's path template rule: literal segments and `{name}` parameters. */
const PATH_RULE = /^\/(?:[A-Za-z0-9._~!$&'()*+,;=:@-]+|\{[A-Za-z_][A-Za-z0-9_]{0,63}\}|\/)*$/;

const Obj = v.record(v.string(), v.unknown());
/** Only what the conversion reads; everything else in the document is ignored. */
export const OpenApiDocSchema = v.object({
  openapi: v.pipe(v.string(), v.regex(/^3\./, 'an OpenAPI 3.x document (openapi: "3.0.x" or "3.1.x")')),
  paths: v.optional(v.record(v.string(), Obj), {}),
  components: v.optional(Obj),
});
export type OpenApiDoc = v.InferOutput<typeof OpenApiDocSchema>;

const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === "object" && !Array.isArray(x);

export class OpenApiError extends Error {}

function pointer(doc: unknown, ref: string): unknown {
  let node = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Every local `$ref` replaced by its target (siblings kept via allOf); a cycle or a remote ref throws. */
export function resolveRefs(node: unknown, doc: unknown, seen: readonly string[] = []): unknown {
  if (Array.isArray(node)) return node.map((item) => resolveRefs(item, doc, seen));
  if (!isObject(node)) return node;
  const ref = node.$ref;
  if (typeof ref === "string") {
    if (!ref.startsWith("#/")) throw new OpenApiError(`$ref '${ref}' points outside the document; bundle it first`);
    if (seen.includes(ref)) throw new OpenApiError(`$ref '${ref}' is recursive and cannot be embedded`);
    const target = pointer(doc, ref);
    if (target === undefined) throw new OpenApiError(`$ref '${ref}' does not resolve in the document`);
    const { $ref: _ref, ...rest } = node;
    const resolved = resolveRefs(target, doc, [...seen, ref]);
    return Object.keys(rest).length ? { allOf: [resolved, resolveRefs(rest, doc, seen)] } : resolved;
  }
  return Object.fromEntries(Object.entries(node).map(([k, val]) => [k, resolveRefs(val, doc, seen)]));
}

const SUB_SCHEMA = new Set(["items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"]);
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]);
const SCHEMA_LISTS = new Set(["allOf", "anyOf", "oneOf", "prefixItems"]);
/** OpenAPI-only keywords that are not JSON Schema: dropped (`example` becomes `examples`). */
const OPENAPI_ONLY = new Set(["nullable", "example", "discriminator", "xml", "externalDocs"]);

const mapValues = (m: unknown, f: (x: unknown) => unknown) =>
  isObject(m) ? Object.fromEntries(Object.entries(m).map(([k, x]) => [k, f(x)])) : m;

/** OpenAPI 3.0 schema dialect → JSON Schema 2020-12 (3.1 schemas pass through unchanged). */
export function toJsonSchema(schema: unknown): unknown {
  if (!isObject(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, val] of Object.entries(schema)) {
    if (OPENAPI_ONLY.has(key)) continue;
    if (SUB_SCHEMA.has(key)) out[key] = toJsonSchema(val);
    else if (SCHEMA_MAPS.has(key)) out[key] = mapValues(val, toJsonSchema);
    else if (SCHEMA_LISTS.has(key)) out[key] = Array.isArray(val) ? val.map(toJsonSchema) : val;
    else out[key] = val;
  }
  for (const [flag, bound] of [
    ["exclusiveMinimum", "minimum"],
    ["exclusiveMaximum", "maximum"],
  ] as const) {
    if (typeof out[flag] !== "boolean") continue;
    if (out[flag] === true && typeof out[bound] === "number") {
      out[flag] = out[bound];
      delete out[bound];
    } else delete out[flag];
  }
  if ("example" in schema && !("examples" in schema)) out.examples = [schema.example];
  if (schema.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  return out;
}

/** A `content` map's JSON entry: `application/json`, else any `+json` / `json` media type. */
function jsonContent(content: unknown): Record<string, unknown> | undefined {
  if (!isObject(content)) return undefined;
  const key = "application/json" in content ? "application/json" : Object.keys(content).find((k) => /json/i.test(k));
  const entry = key === undefined ? undefined : content[key];
  return isObject(entry) ? entry : undefined;
}

function mediaExample(media: Record<string, unknown>): unknown {
  if ("example" in media) return media.example;
  const examples = media.examples;
  if (isObject(examples)) {
    const first = Object.values(examples)[0];
    if (isObject(first) && "value" in first) return first.value;
  }
  return undefined;
}

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: unknown;
  example?: unknown;
}

function parametersOf(list: unknown): Parameter[] {
  if (!Array.isArray(list)) return [];
  return list.filter((p): p is Parameter => isObject(p) && typeof p.name === "string" && typeof p.in === "string");
}

/** GET/DELETE input: an object schema of the query parameters (path-level ones overridden by the operation's). */
function queryInput(params: Parameter[]): { input: Record<string, unknown>; example?: Record<string, unknown> } {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  const example: Record<string, unknown> = {};
  for (const p of params.filter((q) => q.in === "query")) {
    const schema = isObject(p.schema) ? (toJsonSchema(p.schema) as Record<string, unknown>) : { type: "string" };
    const described = p.description && !("description" in schema);
    properties[p.name] = described ? { ...schema, description: p.description } : schema;
    if (p.required) required.push(p.name);
    if (p.example !== undefined) example[p.name] = p.example;
  }
  const input = { type: "object", properties, ...(required.length ? { required } : {}) };
  // An example is offered only when it covers every required parameter (else it would not validate).
  const complete = Object.keys(example).length > 0 && required.every((r) => r in example);
  return complete ? { input, example } : { input };
}

function successResponse(responses: unknown): Record<string, unknown> | undefined {
  if (!isObject(responses)) return undefined;
  const success = Object.keys(responses)
    .sort()
    .find((c) => /^2(\d\d|XX)$/i.test(c));
  const code = success ?? ("default" in responses ? "default" : undefined);
  const res = code === undefined ? undefined : responses[code];
  return isObject(res) ? jsonContent(res.content) : undefined;
}

function clip(text: unknown, max: number): string | undefined {
  return typeof text === "string" && text.trim() ? text.trim().slice(0, max) : undefined;
}

function convertOne(method: string, path: string, op: Record<string, unknown>, shared: Parameter[]): OperationDecl {
  const decl: OperationDecl = { method, path };
  const summary = clip(op.summary, 200);
  const description = clip(op.description, 2000);
  if (summary) decl.summary = summary;
  if (description) decl.description = description;
  if (method === "GET" || method === "DELETE") {
    const own = parametersOf(op.parameters);
    const merged = [...shared.filter((p) => !own.some((o) => o.name === p.name && o.in === p.in)), ...own];
    const { input, example } = queryInput(merged);
    decl.input = input;
    if (example) decl.inputExample = example;
  } else {
    const body = isObject(op.requestBody) ? jsonContent(op.requestBody.content) : undefined;
    if (body && body.schema !== undefined) decl.input = toJsonSchema(body.schema);
    const example = body && mediaExample(body);
    if (example !== undefined && decl.input !== undefined) decl.inputExample = example;
  }
  const out = successResponse(op.responses);
  if (out && out.schema !== undefined) decl.output = toJsonSchema(out.schema);
  const outExample = out && mediaExample(out);
  if (outExample !== undefined && decl.output !== undefined) decl.outputExample = outExample;
  return decl;
}

/**
 * The operations of `doc` whose method is in `allowed` (upper case), in document order, at most
 * MAX_OPERATIONS. Throws OpenApiError for a document that cannot be used at all.
 */
export function operationsFromOpenApi(raw: unknown, allowed: readonly string[]): Converted {
  const parsed = v.safeParse(OpenApiDocSchema, raw);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const at = issue.path?.map((p) => String(p.key)).join(".");
    throw new OpenApiError(`not an OpenAPI 3.x document: ${at ? `${at}: ` : ""}${issue.message}`);
  }
  const doc = resolveRefs(parsed.output, parsed.output) as OpenApiDoc;
  const operations: OperationDecl[] = [];
  const skipped: string[] = [];
  let otherMethods = 0;
  for (const [path, item] of Object.entries(doc.paths)) {
    const shared = parametersOf(item.parameters);
    for (const [key, op] of Object.entries(item)) {
      const method = key.toUpperCase();
      if (!DISCOVERABLE.includes(method) || !isObject(op)) continue;
      if (!allowed.includes(method)) {
        otherMethods++;
        continue;
      }
      if (!PATH_RULE.test(path) || path.length > 200) {
        skipped.push(`${method} ${path}: path parameters must be {name} of letters, digits and _`);
      } else if (operations.length >= MAX_OPERATIONS) {
        skipped.push(`${method} ${path}: more than ${MAX_OPERATIONS} operations`);
      } else operations.push(convertOne(method, path, op, shared));
    }
  }
  return { operations, skipped, otherMethods };
}
