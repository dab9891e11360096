// The platform's MCP tools (docs/ARCHITECTURE.md §12), their schemas: search, details, call.
// Free to use (the endpoint's rate limit applies); `call_api` runs the named API's operation
// through the same path as that API's own MCP server, paid or free.
import type { McpTool } from "./tools.ts";

export const SEARCH_APIS: McpTool = {
  name: "search_apis",
  title: "Search APIs",
  description:
    "Search the 402claw leaderboard: ranked APIs (then emerging ones) with price, score, a summary of " +
    "their tools and links to the score breakdown. Same data as GET /v1/leaderboard.",
  inputSchema: {
    type: "object",
    properties: {
      q: { type: "string", maxLength: 200, description: "Text to match in slug or description" },
      directory: { type: "string", maxLength: 64, description: "Only this directory (see /v1/directories)" },
      window: { type: "string", enum: ["today", "week", "overall"], description: "Ranking window (default overall)" },
      maxPriceUsd: { type: "number", minimum: 0, description: "Price ceiling per call, in USD" },
      top: { type: "integer", minimum: 1, maximum: 100, description: "How many ranked results (default 20)" },
    },
    additionalProperties: false,
  },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
};

export const GET_API: McpTool = {
  name: "get_api",
  title: "Describe an API",
  description:
    "Full description of one API: its operations as tools with input and output JSON Schemas, price, " +
    "payTo, network, and reliability figures per window.",
  inputSchema: {
    type: "object",
    properties: { slug: { type: "string", minLength: 1, maxLength: 64 } },
    required: ["slug"],
    additionalProperties: false,
  },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
};

export const CALL_API: McpTool = {
  name: "call_api",
  title: "Call an API",
  description:
    "Call one operation (tool name from get_api) of an API with its arguments. A paid API answers a " +
    "payment-required result (x402 PaymentRequired in structuredContent); retry the same call with the " +
    'signed PaymentPayload in _meta["x402/payment"].',
  inputSchema: {
    type: "object",
    properties: {
      slug: { type: "string", minLength: 1, maxLength: 64 },
      operation: { type: "string", minLength: 1, maxLength: 128, description: "A tool name of the API" },
      arguments: { type: "object", description: "The operation's arguments (its tool input schema)" },
    },
    required: ["slug", "operation"],
    additionalProperties: false,
  },
  annotations: { readOnlyHint: false, openWorldHint: true },
};

export const PLATFORM_TOOLS: McpTool[] = [SEARCH_APIS, GET_API, CALL_API];
