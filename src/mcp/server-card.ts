// `/.well-known/mcp/server-card.json` (docs/ARCHITECTURE.md §12): the MCP server card (draft
// SEP-2127 format) of the platform server, with its static tools, so a client learns the endpoint,
// transport and tools without an initialize round trip. Per-API servers are listed by search_apis.
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import type { IRequest } from "itty-router";
import { json } from "../http/json.ts";
import { PLATFORM_TOOLS } from "./platform-tools.ts";

export function serverCard(origin: string) {
  return {
    $schema: "https://static.modelcontextprotocol.io/schemas/mcp-server-card/v1.json",
    version: "1.0",
    protocolVersion: LATEST_PROTOCOL_VERSION,
    serverInfo: { name: "402claw", title: "402claw: pay-per-call APIs", version: "1" },
    description:
      "Search, inspect and call pay-per-call APIs; paid tools use x402 over MCP (tool-result binding). " +
      "Each API also has its own server at /t/<slug>/mcp.",
    transport: { type: "streamable-http", endpoint: `${origin}/mcp` },
    capabilities: { tools: { listChanged: false } },
    authentication: { required: false, schemes: [] },
    tools: PLATFORM_TOOLS,
    _meta: {
      "org.x402/payment": { binding: "tool-result", payment: "x402/payment", response: "x402/payment-response" },
    },
  };
}

export function getServerCard(request: IRequest): Response {
  return json(serverCard(new URL(request.url).origin));
}
