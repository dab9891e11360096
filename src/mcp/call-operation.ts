// A tool call of one API's operation, run through the gateway's one call path (docs/ARCHITECTURE.md
// §12, §3): the arguments become the operation's HTTP request, the `_meta` payment its
// PAYMENT-SIGNATURE header, and `callTenant` does what it does for HTTP (verify → admit
// exactly-once, spend caps, limits → run → settle → commit, one usage record, with transport
// "mcp" so stats and the leaderboard tell tool calls from HTTP calls). The caller's IP
// and self-label are carried over, so free tools are metered under the same identity as HTTP.
// Each tool call gets its own request id (one HTTP request may carry a JSON-RPC batch, and usage
// is deduped by request id), returned in `_meta["402claw/requestId"]`.
import type { TenantConfig } from "../config/tenant-config.ts";
import type { Operation } from "../discovery/description-types.ts";
import { callTenant, type CallContext } from "../gateway/call.ts";
import { ApiError } from "../http/errors.ts";
import { newRequestId } from "../http/request-id.ts";
import { paymentOfMeta } from "./payment-meta.ts";
import { REQUEST_ID_META, toolError, toolResultOf, type ToolResult } from "./result.ts";
import { requestOfTool } from "./tools.ts";

const CARRIED_HEADERS = ["cf-connecting-ip", "x-agent-id", "x-caller-id", "user-agent"];

export interface OperationCall {
  call: CallContext;
  tenant: TenantConfig;
  operation: Operation;
  /** The API root on this origin (`{origin}/t/<slug>` or `https://<host>`), no trailing slash. */
  base: string;
  /** The MCP HTTP request (its caller headers are carried over). */
  original: Request;
  structured: boolean;
}

/** The internal request of a tool call: exactly the HTTP request an HTTP client would send. */
export function tenantRequestOf(
  c: OperationCall,
  args: Record<string, unknown>,
  paymentHeader: string | null,
): Request {
  const r = requestOfTool(c.operation, args);
  const headers = new Headers();
  for (const name of CARRIED_HEADERS) {
    const value = c.original.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  if (r.body !== undefined) headers.set("content-type", "application/json");
  if (paymentHeader) headers.set("payment-signature", paymentHeader);
  const body = r.body !== undefined ? { body: r.body } : {};
  return new Request(`${c.base}${r.path}`, { method: r.method, headers, ...body });
}

export async function callOperation(
  c: OperationCall,
  args: Record<string, unknown>,
  meta: unknown,
): Promise<ToolResult> {
  const payment = paymentOfMeta(meta);
  if (payment.kind === "malformed") return toolError("invalid_payment_meta", payment.message);
  const request = tenantRequestOf(c, args, payment.kind === "header" ? payment.header : null);
  const path = new URL(request.url).pathname.slice(new URL(c.base).pathname.replace(/\/$/, "").length) || "/";
  const call: CallContext = { ...c.call, requestId: newRequestId(), startedAt: Date.now(), transport: "mcp" };
  let result: ToolResult;
  try {
    result = await toolResultOf(await callTenant(call, c.tenant, request, path), c.structured);
  } catch (err) {
    // The HTTP entry would answer these as its error envelope (or a 500); over MCP a tool error.
    if (err instanceof ApiError) result = toolError(err.code, err.message, { status: err.status });
    else {
      console.error(`mcp tool call failed in ${call.requestId}`, err);
      result = toolError("tool_failed", `the call failed; quote request id ${call.requestId} when reporting it`);
    }
  }
  result._meta = { ...result._meta, [REQUEST_ID_META]: call.requestId };
  return result;
}
