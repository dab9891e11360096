// The MCP server of one API (docs/ARCHITECTURE.md §12): `/t/:slug/mcp` on platform hosts and
// `/mcp` on the API's own hosts, served by the platform ahead of the tenant's code (src/index.ts),
// like its discovery documents. One tool per operation of its description; each call runs
// through the gateway's call path (call-operation.ts), paid or free, exactly as over HTTP.
import type { TenantConfig } from "../config/tenant-config.ts";
import type { CallContext } from "../gateway/call.ts";
import { describeTenant } from "../discovery/describe.ts";
import type { ApiDescription } from "../discovery/description-types.ts";
import { callerFromIp } from "../tenancy/caller.ts";
import { callOperation } from "./call-operation.ts";
import { serveMcp, type McpSurface } from "./server.ts";
import { toolsOf } from "./tools.ts";

export const MCP_PATH = "/mcp";

export function apiSurface(call: CallContext, tenant: TenantConfig, base: string, original: Request): McpSurface {
  const d = describeTenant(tenant);
  const tools = toolsOf(d);
  const price = pricingNote(d);
  return {
    name: `402claw-${d.slug}`,
    version: String(d.version),
    instructions: `${d.description}. ${price}`,
    tools: async () => tools.map((t) => t.tool),
    call: async (tool, args, meta) => {
      const operation = tools.find((t) => t.tool.name === tool.name)!.operation;
      const structured = tool.outputSchema !== undefined;
      return callOperation({ call, tenant, operation, base, original, structured }, args, meta);
    },
  };
}

/** `/mcp` of a tenant, or null when `path` is not it. */
export async function tenantMcp(call: CallContext, tenant: TenantConfig, request: Request, path: string, base: string) {
  if (path !== MCP_PATH) return null;
  const caller = await callerFromIp(request, call.config.apiKeySecret);
  return serveMcp(request, apiSurface(call, tenant, base, request), caller, call.startedAt);
}

/** The server's instructions say what calls cost: one price, a price per tool, or free. */
export function pricingNote(d: ApiDescription): string {
  const prices = new Set(d.operations.map((op) => op.price?.display ?? "free"));
  if (!d.payment || (prices.size === 1 && prices.has("free"))) return "Free.";
  if (prices.size === 1) return `Each tool call costs ${[...prices][0]}, paid with x402 over MCP.`;
  return "Tools are priced per operation (each tool's description says its price), paid with x402 over MCP.";
}
