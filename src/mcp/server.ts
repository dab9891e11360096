// One stateless MCP endpoint over Streamable HTTP (docs/ARCHITECTURE.md §12), on the official
// SDK's web-standard transport (it runs in workerd): a fresh Server + transport per HTTP request,
// JSON responses (no SSE, no sessions), so any isolate can answer any request. A surface (the
// platform's tools, or one API's) supplies the tools and runs the calls; this file owns the
// protocol: request-size limit, per-caller rate limit, unknown tools, input-schema validation.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { ApiError } from "../http/errors.ts";
import { MAX_TENANT_BODY_BYTES } from "../http/body-limit.ts";
import { instanceProblems, type JsonSchema } from "../discovery/json-schema.ts";
import type { McpTool } from "./tools.ts";
import { toolError, type ToolResult } from "./result.ts";
import { admitMcpRequest } from "./rate-limit.ts";

/** A tool call's body may carry a tenant body as large as HTTP allows, plus the JSON-RPC envelope. */
export const MAX_MCP_BODY_BYTES = MAX_TENANT_BODY_BYTES + 64 * 1024;

export interface McpSurface {
  name: string;
  version: string;
  instructions: string;
  tools(): Promise<McpTool[]>;
  /** Runs a known tool whose arguments passed its input schema. */
  call(tool: McpTool, args: Record<string, unknown>, meta: unknown): Promise<ToolResult>;
}

function serverFor(surface: McpSurface): Server {
  const server = new Server(
    { name: surface.name, version: surface.version },
    {
      capabilities: { tools: {} },
      instructions: surface.instructions,
      // Not Ajv: its compiled validators need eval, which workerd forbids.
      jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: await surface.tools() }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const { name, arguments: args = {}, _meta } = request.params;
    const tool = (await surface.tools()).find((t) => t.name === name);
    // MCP: an unknown tool is a protocol error (Invalid params), not a tool result.
    if (!tool) {
      const message = `unknown tool '${String(name).slice(0, 128)}'`;
      throw new McpError(ErrorCode.InvalidParams, message, { code: "unknown_tool" });
    }
    const problems = instanceProblems(tool.inputSchema as JsonSchema, args);
    if (problems.length) {
      return toolError("invalid_arguments", `arguments do not match the input schema of '${name}'`, { problems });
    }
    return surface.call(tool, args, _meta);
  });
  return server;
}

/** Answers one HTTP request to an MCP endpoint. `caller` keys the rate limit (an IP hash). */
export async function serveMcp(request: Request, surface: McpSurface, caller: string, now: number): Promise<Response> {
  // Stateless and JSON-only: no standalone SSE stream (GET) and no sessions to end (DELETE).
  if (request.method !== "POST") {
    const message = `${request.method} is not served: this stateless MCP endpoint takes POST (Streamable HTTP, JSON responses)`;
    throw new ApiError(405, "method_not_allowed", message, undefined, { allow: "POST" });
  }
  const limited = admitMcpRequest(caller, now);
  if (limited) {
    const headers = { "retry-after": String(limited) };
    const details = { retryAfterSeconds: limited };
    throw new ApiError(429, "rate_limited", "too many MCP requests; slow down", details, headers);
  }
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
    maxRequestBodySize: MAX_MCP_BODY_BYTES,
  });
  const server = serverFor(surface);
  await server.connect(transport);
  try {
    return await transport.handleRequest(request);
  } finally {
    // Stateless: the JSON response is complete once returned; nothing outlives the request.
    void server.close();
  }
}
