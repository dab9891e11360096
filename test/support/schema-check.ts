// A minimal JSON Schema (2020-12 subset) checker for real responses against the served OpenAPI
// document: $ref into components, anyOf, type, enum, const, bounds, pattern, required, properties.
// biome-ignore lint/suspicious/noExplicitAny: a JSON Schema is read field by field
export type Schema = Record<string, any>;

export function checkSchema(schema: Schema, value: unknown, doc: Schema, path = "$"): string[] {
  if (schema.$ref) return checkSchema(doc.components.schemas[String(schema.$ref).split("/").pop()!], value, doc, path);
  if (schema.anyOf) {
    const branches = (schema.anyOf as Schema[]).map((s) => checkSchema(s, value, doc, path));
    return branches.some((e) => e.length === 0)
      ? []
      : [`${path}: matches no anyOf branch (${branches.flat().join("; ")})`];
  }
  const errors: string[] = [];
  const types: string[] = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  const typeOf = (v: unknown) =>
    v === null ? "null" : Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v;
  if (types.length > 0) {
    const t = typeOf(value);
    if (!types.includes(t) && !(t === "integer" && types.includes("number")))
      return [`${path}: ${t} is not ${types.join("|")}`];
  }
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${path}: ${JSON.stringify(value)} not in enum`);
  if ("const" in schema && schema.const !== value) errors.push(`${path}: ${JSON.stringify(value)} !== const`);
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${path}: < minimum`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${path}: > maximum`);
  }
  if (typeof value === "string" && schema.pattern && !new RegExp(schema.pattern).test(value))
    errors.push(`${path}: '${value}' !~ ${schema.pattern}`);
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in obj)) errors.push(`${path}.${key}: missing`);
    for (const [key, v] of Object.entries(obj)) {
      const sub = schema.properties?.[key];
      if (sub) errors.push(...checkSchema(sub, v, doc, `${path}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${path}.${key}: not documented`);
    }
  }
  if (Array.isArray(value) && schema.items)
    value.forEach((v, i) => errors.push(...checkSchema(schema.items, v, doc, `${path}[${i}]`)));
  return errors;
}
