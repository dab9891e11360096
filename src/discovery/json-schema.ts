// JSON Schema facts the discovery documents rely on (docs/ARCHITECTURE.md §11): is a creator's
// declared schema really a JSON Schema (2020-12 keywords, local `$ref` only, bounded), a sample
// instance derived from a schema, and instance validation (@cfworker/json-schema: it runs in
// Workers without code generation, unlike ajv).
//
// Why local `$ref` only: the crawlers that read our documents resolve `#/` references and follow
// no links, and the bazaar validators refuse external references outright.
import { Validator } from "@cfworker/json-schema";

export type JsonSchema = Record<string, unknown> | boolean;

export const JSON_SCHEMA_LIMITS = { maxDepth: 32, maxBytes: 64 * 1024 } as const;

const TYPES = new Set(["null", "boolean", "object", "array", "number", "integer", "string"]);
const SCHEMA_KEYS = [
  "items",
  "additionalProperties",
  "not",
  "if",
  "then",
  "else",
  "contains",
  "propertyNames",
  "unevaluatedProperties",
  "unevaluatedItems",
  "additionalItems",
  "contentSchema",
];
const SCHEMA_MAPS = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];
const SCHEMA_LISTS = ["allOf", "anyOf", "oneOf", "prefixItems"];
const NUMBER_KEYS = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];
const COUNT_KEYS = [
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
  "minContains",
  "maxContains",
];
const STRING_KEYS = [
  "title",
  "description",
  "format",
  "$comment",
  "$anchor",
  "$schema",
  "contentMediaType",
  "contentEncoding",
];
const BOOLEAN_KEYS = ["uniqueItems", "readOnly", "writeOnly", "deprecated"];

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Problems that make `schema` not a usable JSON Schema, each `path: message`; empty when fine. */
export function jsonSchemaProblems(schema: unknown, path = "$"): string[] {
  let size: number;
  try {
    size = JSON.stringify(schema)?.length ?? 0;
  } catch {
    return [`${path}: not JSON`];
  }
  if (size > JSON_SCHEMA_LIMITS.maxBytes) return [`${path}: larger than ${JSON_SCHEMA_LIMITS.maxBytes} bytes`];
  const problems: string[] = [];
  walk(schema, path, 0, problems);
  if (problems.length === 0) problems.push(...danglingRefs(schema, schema, path));
  return problems.slice(0, 20);
}

/** A `$ref: "#/..."` must point inside the schema: it is embedded in documents without its context. */
function danglingRefs(node: unknown, root: unknown, path: string): string[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => danglingRefs(item, root, `${path}[${i}]`));
  if (!isObject(node)) return [];
  const out: string[] = [];
  const ref = node.$ref;
  if (typeof ref === "string" && ref.startsWith("#/") && resolvePointer(root, ref.slice(2)) === undefined) {
    out.push(
      `${path}.$ref: '${ref.slice(0, 100)}' does not resolve inside this schema (dereference it before sending)`,
    );
  }
  for (const [key, value] of Object.entries(node))
    if (key !== "$ref") out.push(...danglingRefs(value, root, `${path}.${key}`));
  return out;
}

function resolvePointer(root: unknown, pointer: string): unknown {
  let node = root;
  for (const raw of pointer.split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
    if (node === undefined) return undefined;
  }
  return node;
}

function walk(schema: unknown, path: string, depth: number, out: string[]): void {
  if (typeof schema === "boolean") return;
  if (!isObject(schema)) return void out.push(`${path}: a schema is an object or a boolean`);
  if (depth > JSON_SCHEMA_LIMITS.maxDepth)
    return void out.push(`${path}: nested deeper than ${JSON_SCHEMA_LIMITS.maxDepth}`);
  const at = (key: string) => `${path}.${key}`;
  checkType(schema.type, at("type"), out);
  for (const key of SCHEMA_KEYS) if (key in schema) walk(schema[key], at(key), depth + 1, out);
  for (const key of SCHEMA_MAPS) {
    if (!(key in schema)) continue;
    const map = schema[key];
    if (!isObject(map)) out.push(`${at(key)}: must be an object of schemas`);
    else for (const [name, sub] of Object.entries(map)) walk(sub, `${at(key)}.${name}`, depth + 1, out);
  }
  for (const key of SCHEMA_LISTS) {
    if (!(key in schema)) continue;
    const list = schema[key];
    if (!Array.isArray(list) || list.length === 0) out.push(`${at(key)}: must be a non-empty array of schemas`);
    else list.forEach((sub, i) => walk(sub, `${at(key)}[${i}]`, depth + 1, out));
  }
  for (const key of NUMBER_KEYS)
    if (key in schema && typeof schema[key] !== "number") out.push(`${at(key)}: must be a number`);
  if ("multipleOf" in schema && !(typeof schema.multipleOf === "number" && schema.multipleOf > 0))
    out.push(`${at("multipleOf")}: must be > 0`);
  for (const key of COUNT_KEYS)
    if (key in schema && !(Number.isInteger(schema[key]) && Number(schema[key]) >= 0))
      out.push(`${at(key)}: must be an integer ≥ 0`);
  for (const key of STRING_KEYS)
    if (key in schema && typeof schema[key] !== "string") out.push(`${at(key)}: must be a string`);
  for (const key of BOOLEAN_KEYS)
    if (key in schema && typeof schema[key] !== "boolean") out.push(`${at(key)}: must be a boolean`);
  checkKeywords(schema, path, out);
}

function checkType(type: unknown, path: string, out: string[]): void {
  if (type === undefined) return;
  const list = Array.isArray(type) ? type : [type];
  if (list.length === 0 || !list.every((t) => typeof t === "string" && TYPES.has(t))) {
    out.push(`${path}: must be one of ${[...TYPES].join(", ")} (or an array of them)`);
  }
}

function checkKeywords(schema: Record<string, unknown>, path: string, out: string[]): void {
  const required = schema.required;
  if (
    required !== undefined &&
    !(
      Array.isArray(required) &&
      required.every((r) => typeof r === "string") &&
      new Set(required).size === required.length
    )
  ) {
    out.push(`${path}.required: must be an array of distinct strings`);
  }
  if ("enum" in schema && !Array.isArray(schema.enum)) out.push(`${path}.enum: must be an array`);
  if ("examples" in schema && !Array.isArray(schema.examples)) out.push(`${path}.examples: must be an array`);
  for (const key of ["$ref", "$id", "$dynamicRef"]) {
    if (!(key in schema)) continue;
    const ref = schema[key];
    if (typeof ref !== "string") out.push(`${path}.${key}: must be a string`);
    else if (key !== "$id" && !ref.startsWith("#"))
      out.push(`${path}.${key}: only local references ('#/...') are allowed`);
    else if (key === "$id") out.push(`${path}.$id: schemas are embedded in our documents and take no $id`);
  }
  if ("pattern" in schema) {
    if (typeof schema.pattern !== "string") out.push(`${path}.pattern: must be a string`);
    else {
      try {
        new RegExp(schema.pattern, "u");
      } catch {
        out.push(`${path}.pattern: not a valid regular expression`);
      }
    }
  }
}

/**
 * `schema` with every local `$ref` replaced by its target and the root `$defs`/`definitions`
 * dropped: documents embed a declared schema under their own root, where `#/...` would point
 * elsewhere. Returns null for a recursive reference (it cannot be inlined).
 */
export function inlineRefs(schema: JsonSchema): JsonSchema | null {
  const expand = (node: unknown, seen: readonly string[]): unknown => {
    if (Array.isArray(node)) return node.map((item) => expand(item, seen));
    if (!isObject(node)) return node;
    const ref = node.$ref;
    if (typeof ref === "string" && ref.startsWith("#/")) {
      if (seen.includes(ref)) throw new RangeError("recursive $ref");
      const { $ref: _ref, ...rest } = node;
      const target = expand(resolvePointer(schema, ref.slice(2)), [...seen, ref]);
      return Object.keys(rest).length === 0 ? target : { allOf: [target, expand(rest, seen)] };
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, expand(v, seen)]));
  };
  try {
    const out = expand(schema, []) as JsonSchema;
    if (typeof out === "object") {
      const { $defs: _defs, definitions: _definitions, ...rest } = out;
      return rest;
    }
    return out;
  } catch (err) {
    if (err instanceof RangeError) return null;
    throw err;
  }
}

/** Validation errors of `instance` against `schema` (empty when valid). */
export function instanceProblems(schema: JsonSchema, instance: unknown): string[] {
  const result = new Validator(schema as never, "2020-12", false).validate(instance);
  return result.valid ? [] : result.errors.slice(0, 10).map((e) => `${e.instanceLocation}: ${e.error}`);
}

/**
 * A plausible instance of `schema`, or undefined when none can be derived simply (then documents
 * carry no example rather than a wrong one). Callers validate the result before publishing it.
 */
export function sampleFor(schema: JsonSchema, depth = 0): unknown {
  if (typeof schema === "boolean" || depth > 8) return schema ? {} : undefined;
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if ("default" in schema) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  if (type === "object" || (type === undefined && isObject(schema.properties))) {
    const out: Record<string, unknown> = {};
    const properties = isObject(schema.properties) ? schema.properties : {};
    for (const name of Array.isArray(schema.required) ? schema.required : []) {
      const sub = properties[String(name)];
      out[String(name)] = sub === undefined ? "" : sampleFor(sub as JsonSchema, depth + 1);
    }
    return out;
  }
  if (type === "array") return [];
  if (type === "integer") return typeof schema.minimum === "number" ? Math.ceil(schema.minimum) : 1;
  if (type === "number") return typeof schema.minimum === "number" ? schema.minimum : 1;
  if (type === "boolean") return true;
  if (type === "string") return "example".padEnd(Number(schema.minLength ?? 0), "x");
  if (type === "null") return null;
  return undefined;
}
