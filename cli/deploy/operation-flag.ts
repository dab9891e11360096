// `claw wrap --operation 'GET /rates/{base}?symbols,amount! Latest rates'` (repeatable): a few
// operations declared without an OpenAPI document (README "Proxies"). Pure. Query parameter
// names after `?` become string properties of the GET/DELETE input schema (`!` = required); the
// rest of the line is the summary. A POST/PUT/PATCH operation declared this way has no body schema.
import { usageError } from "../core/errors.ts";
import type { OperationDecl } from "./openapi.ts";

const SHAPE = /^\s*([A-Za-z]+)\s+(\/[^\s?]*)(?:\?(\S*))?(?:\s+(.+?))?\s*$/;
const PARAM = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

export function parseOperationFlag(value: string): OperationDecl {
  const hint = `--operation must look like 'GET /items/{id}?q,limit! Summary', got '${value}'`;
  const m = SHAPE.exec(value);
  if (!m) throw usageError(hint, "invalid_operation");
  const method = m[1]!.toUpperCase();
  if (!["GET", "POST", "PUT", "PATCH", "DELETE"].includes(method)) {
    const why = "discovery describes GET, POST, PUT, PATCH and DELETE";
    throw usageError(`--operation ${method}: ${why}`, "invalid_operation");
  }
  const decl: OperationDecl = { method, path: m[2]! };
  const names = (m[3] ?? "")
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length && method !== "GET" && method !== "DELETE") {
    const why = "query parameters after '?' are for GET and DELETE";
    throw usageError(`--operation ${method} ${m[2]}: ${why}`, "invalid_operation");
  }
  if (method === "GET" || method === "DELETE") {
    const properties: Record<string, unknown> = {};
    const required: string[] = [];
    for (const raw of names) {
      const name = raw.replace(/!$/, "");
      if (!PARAM.test(name)) throw usageError(`${hint}: '${raw}' is not a parameter name`, "invalid_operation");
      properties[name] = { type: "string" };
      if (raw.endsWith("!")) required.push(name);
    }
    decl.input = { type: "object", properties, ...(required.length ? { required } : {}) };
  }
  if (m[4]) decl.summary = m[4].slice(0, 200);
  return decl;
}
