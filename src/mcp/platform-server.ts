// The platform MCP server at `/mcp` on platform hosts (docs/ARCHITECTURE.md §12): search_apis
// reads the same handler as GET /v1/leaderboard, get_api the API's description (the source of
// its OpenAPI and its tools) plus its leaderboard detail, call_api runs an operation through
// the API's own tool (call-operation.ts → the gateway's call path).
import type { IRequest } from "itty-router";
import type { PlatformContext } from "../control/context.ts";
import { describeTenant } from "../discovery/describe.ts";
import { slugProblem } from "../config/slug.ts";
import { instanceProblems, type JsonSchema } from "../discovery/json-schema.ts";
import { getLeaderboard } from "../public/leaderboard.ts";
import { readApi } from "../../objects/leaderboard/snapshot-store.ts";
import { tenantsBySlug } from "../discovery/catalog-store.ts";
import { loadTenantBySlug } from "../tenancy/tenant-store.ts";
import { callerFromIp } from "../tenancy/caller.ts";
import { callOperation } from "./call-operation.ts";
import { PLATFORM_TOOLS } from "./platform-tools.ts";
import { textResult, toolError, type ToolResult } from "./result.ts";
import { serveMcp, type McpSurface } from "./server.ts";
import { toolsOf } from "./tools.ts";

/** A leaderboard row as /v1/leaderboard answers it (only what the search reads is typed). */
type BoardEntry = { slug: string; price: { usd: string }; [field: string]: unknown };

type Args = Record<string, unknown>;

async function searchApis(pc: PlatformContext, origin: string, args: Args): Promise<ToolResult> {
  const params = new URLSearchParams();
  for (const key of ["q", "directory", "window", "top"]) {
    if (args[key] !== undefined) params.set(key, String(args[key]));
  }
  const request = new Request(`${origin}/v1/leaderboard?${params}`) as unknown as IRequest;
  const res = await getLeaderboard(request, pc).catch((err: unknown) => err);
  if (!(res instanceof Response)) {
    const e = res as { code?: string; message?: string };
    return toolError(e.code ?? "search_failed", e.message ?? "search failed");
  }
  const board = (await res.json()) as {
    window: string;
    asOf: string | null;
    items: BoardEntry[];
    emerging: BoardEntry[];
  };
  const ceiling = typeof args.maxPriceUsd === "number" ? args.maxPriceUsd : Infinity;
  const usd = (e: BoardEntry) => Number(String(e.price.usd).replace("$", ""));
  const all = [...board.items, ...board.emerging].filter((e) => usd(e) <= ceiling);
  const tenants = await tenantsBySlug(
    pc.env.DB,
    all.map((e) => e.slug),
  );
  const results = all.map((e) => {
    const config = tenants.get(e.slug);
    const tools = config
      ? toolsOf(describeTenant(config)).map((t) => ({ name: t.tool.name, summary: t.tool.title }))
      : [];
    return {
      rank: e.rank,
      status: e.status,
      slug: e.slug,
      directory: e.directory,
      description: e.description,
      paid: e.paid,
      price: e.price,
      network: e.network,
      score: e.score,
      factors: e.factors,
      metrics: e.metrics,
      url: e.url,
      scoreUrl: e.detailsUrl,
      mcpUrl: `${origin}/t/${e.slug}/mcp`,
      tools,
    };
  });
  return textResult({ window: board.window, asOf: board.asOf, results });
}

async function getApiTool(pc: PlatformContext, origin: string, slug: string): Promise<ToolResult> {
  const tenant = await loadTenantBySlug(pc.env.DB, slug);
  if (!tenant || tenant.deletedAt !== null) return toolError("api_not_found", `no API '${slug}'`);
  const d = describeTenant(tenant.config);
  const { api } = await readApi(pc.env.DB, slug);
  const reliability = api
    ? Object.fromEntries(
        Object.entries(api.windows).map(([w, detail]) => [w, { score: detail.score, metrics: detail.metrics }]),
      )
    : null;
  return textResult({
    slug: d.slug,
    kind: d.kind,
    description: d.description,
    directory: d.directory,
    version: d.version,
    payment: d.payment,
    url: `${origin}/t/${slug}`,
    mcpUrl: `${origin}/t/${slug}/mcp`,
    openapiUrl: `${origin}/t/${slug}/openapi.json`,
    scoreUrl: `${origin}/v1/apis/${slug}`,
    tools: toolsOf(d).map((t) => ({ ...t.tool, method: t.operation.method, path: t.operation.path })),
    reliability,
  });
}

async function callApi(pc: PlatformContext, request: Request, args: Args, meta: unknown): Promise<ToolResult> {
  const slug = String(args.slug);
  const tenant = await loadTenantBySlug(pc.env.DB, slug);
  if (!tenant || tenant.deletedAt !== null) return toolError("api_not_found", `no API '${slug}'`);
  const found = toolsOf(describeTenant(tenant.config)).find((t) => t.tool.name === args.operation);
  if (!found) {
    return toolError("unknown_tool", `API '${slug}' has no operation '${String(args.operation)}'; see get_api`);
  }
  const input = (args.arguments ?? {}) as Args;
  const problems = instanceProblems(found.tool.inputSchema as JsonSchema, input);
  if (problems.length) {
    return toolError("invalid_arguments", `arguments do not match '${found.tool.name}'`, { problems });
  }
  const call = { env: pc.env, ctx: pc.ctx, config: pc.config, requestId: pc.requestId, startedAt: pc.now };
  const base = `${new URL(request.url).origin}/t/${slug}`;
  const structured = found.tool.outputSchema !== undefined;
  const operation = found.operation;
  return callOperation({ call, tenant: tenant.config, operation, base, original: request, structured }, input, meta);
}

export function platformSurface(pc: PlatformContext, request: Request): McpSurface {
  const origin = new URL(request.url).origin;
  return {
    name: "402claw",
    version: "1",
    instructions:
      "Find pay-per-call APIs with search_apis, read one with get_api, call it with call_api (or connect to its own " +
      "MCP server at mcpUrl). Paid calls use x402 over MCP: pay the PaymentRequired result and retry with " +
      '_meta["x402/payment"].',
    tools: async () => PLATFORM_TOOLS,
    call: async (tool, args, meta) => {
      if (tool.name === "search_apis") return searchApis(pc, origin, args);
      const slug = String(args.slug);
      const problem = slugProblem(slug);
      if (problem) return toolError("invalid_slug", `'${slug.slice(0, 60)}' is not a valid slug (${problem})`);
      if (tool.name === "get_api") return getApiTool(pc, origin, slug);
      return callApi(pc, request, args, meta);
    },
  };
}

/** POST/GET/DELETE /mcp on platform hosts. */
export async function platformMcp(request: IRequest, pc: PlatformContext): Promise<Response> {
  const caller = await callerFromIp(request, pc.config.apiKeySecret);
  return serveMcp(request, platformSurface(pc, request), caller, pc.now);
}
