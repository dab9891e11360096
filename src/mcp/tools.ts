// MCP tools of one API (docs/ARCHITECTURE.md §12), pure: one tool per operation of the API's
// description (src/discovery/describe.ts, the same source as its OpenAPI document), and the
// inverse, a tool call's arguments back to the HTTP request of that operation. Parameter schemas
// are taken as they are (path and query parameters are top-level properties); an operation with
// a JSON body takes it whole under `body`, so no name of the body can shadow a parameter.
import type { ApiDescription, Operation } from "../discovery/description-types.ts";
import type { JsonSchema } from "../discovery/json-schema.ts";

export interface McpTool {
  name: string;
  title?: string;
  description: string;
  inputSchema: { type: "object"; properties: Record<string, unknown>; required?: string[] } & Record<string, unknown>;
  outputSchema?: { type: "object" } & Record<string, unknown>;
  annotations?: { readOnlyHint?: boolean; idempotentHint?: boolean; openWorldHint?: boolean; title?: string };
}

export interface ToolOfApi {
  tool: McpTool;
  operation: Operation;
}

/** The tool name of an operation: method + path, e.g. `get_v1_records_id` (stable per operation). */
export function toolName(op: Pick<Operation, "method" | "path">): string {
  const path = op.path
    .replace(/[{}]/g, "")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .replace(/^_|_$/g, "");
  return `${op.method.toLowerCase()}${path ? `_${path}` : ""}`;
}

export function inputSchemaOf(op: Operation): McpTool["inputSchema"] {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const p of op.parameters) {
    properties[p.name] = { ...p.schema, description: p.description };
    if (p.required) required.push(p.name);
  }
  if (op.body) {
    properties.body = op.body.schema;
    required.push("body");
  }
  return { type: "object", properties, ...(required.length ? { required } : {}) };
}

/** MCP output schemas must describe an object; other outputs are returned as text only. */
export function outputSchemaOf(op: Operation): McpTool["outputSchema"] | undefined {
  const schema = op.output.schema as JsonSchema;
  if (typeof schema !== "object" || schema === null) return undefined;
  return (schema as Record<string, unknown>).type === "object" ? (schema as McpTool["outputSchema"]) : undefined;
}

/** Priced per operation (docs/ARCHITECTURE.md §5): each tool states its own operation's price. */
function describeTool(d: ApiDescription, op: Operation): string {
  const price = op.price ? ` Costs ${op.price.display} per call (x402 over MCP).` : " Free.";
  return `${op.summary}${op.description ? `. ${op.description}` : ""} (${op.method} ${op.path} of ${d.slug}).${price}`;
}

export function toolsOf(d: ApiDescription): ToolOfApi[] {
  return d.operations.map((operation) => {
    const readOnly = d.kind === "dataset" || operation.method === "GET";
    const output = outputSchemaOf(operation);
    const tool: McpTool = {
      name: toolName(operation),
      title: operation.summary,
      description: describeTool(d, operation),
      inputSchema: inputSchemaOf(operation),
      ...(output ? { outputSchema: output } : {}),
      annotations: { readOnlyHint: readOnly, idempotentHint: readOnly, openWorldHint: d.kind === "proxy" },
    };
    return { tool, operation };
  });
}

export interface ToolRequest {
  method: Operation["method"];
  /** Tenant-relative path with the query string. */
  path: string;
  body?: string;
}

function queryValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The HTTP request of a tool call whose arguments already passed the input schema. */
export function requestOfTool(op: Operation, args: Record<string, unknown>): ToolRequest {
  const path = op.path.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) =>
    encodeURIComponent(queryValue(args[name] ?? "")),
  );
  const query = new URLSearchParams();
  for (const p of op.parameters) {
    if (p.in !== "query" || args[p.name] === undefined || args[p.name] === null) continue;
    query.set(p.name, queryValue(args[p.name]));
  }
  const qs = query.toString();
  return {
    method: op.method,
    path: qs ? `${path}?${qs}` : path,
    ...(op.body ? { body: JSON.stringify(args.body ?? null) } : {}),
  };
}
