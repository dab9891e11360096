// The mapping of a tenant call's HTTP answer to an MCP tool result (docs/ARCHITECTURE.md §12,
// x402 `specs/transports-v2/mcp.md`, tool-result binding). The gateway answered exactly as it
// answers HTTP; only the envelope changes:
//   402            → isError, the PaymentRequired object in structuredContent and content[0].text
//                    (a settlement that failed after the tool ran is a 402 too: only the payment error)
//   2xx            → the content (JSON as structuredContent when the tool has an output schema),
//                    PAYMENT-RESPONSE decoded into _meta["x402/payment-response"]
//   other statuses → isError with the gateway's {error: {code, message}} (never charged: the paid
//                    flow settles only 2xx answers)
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from "@x402/core/http";

export const PAYMENT_META = "x402/payment";
export const PAYMENT_RESPONSE_META = "x402/payment-response";
/** Our request id of the tool call (its usage record and logs), as x-request-id is for HTTP. */
export const REQUEST_ID_META = "402claw/requestId";

export interface ToolResult {
  [key: string]: unknown;
  content: { type: "text"; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  _meta?: Record<string, unknown>;
}

export function textResult(value: unknown, isError = false): ToolResult {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  const structured = value !== null && typeof value === "object" && !Array.isArray(value);
  return {
    content: [{ type: "text", text }],
    ...(structured ? { structuredContent: value as Record<string, unknown> } : {}),
    ...(isError ? { isError: true } : {}),
  };
}

/** A tool error with a stable code, shaped like the HTTP error envelope. */
export function toolError(code: string, message: string, extra: Record<string, unknown> = {}): ToolResult {
  return textResult({ error: { code, message, ...extra } }, true);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function paymentRequiredResult(response: Response): Promise<ToolResult> {
  const body = parseJson(await response.text()) as Record<string, unknown> | undefined;
  const header = response.headers.get("payment-required");
  const required: Record<string, unknown> = header
    ? { ...(decodePaymentRequiredHeader(header) as unknown as Record<string, unknown>) }
    : { ...(body ?? {}) };
  // Our stable reason code (payment_required, payment_invalid, settlement_failed, ...) rides along.
  if (body && typeof body.code === "string") required.code = body.code;
  return textResult(required, true);
}

/** `structured`: the tool declares an output schema, so a JSON object answer is structuredContent. */
export async function toolResultOf(response: Response, structured: boolean): Promise<ToolResult> {
  if (response.status === 402) return paymentRequiredResult(response);
  const text = await response.text();
  const json = parseJson(text);
  if (response.status < 200 || response.status >= 300) {
    const envelope = json as { error?: { code?: unknown; message?: unknown } } | undefined;
    const code = typeof envelope?.error?.code === "string" ? envelope.error.code : "tool_failed";
    const message = typeof envelope?.error?.message === "string" ? envelope.error.message : text.slice(0, 500);
    return toolError(code, message, { status: response.status });
  }
  const isObject = json !== null && typeof json === "object" && !Array.isArray(json);
  const result: ToolResult = {
    content: [{ type: "text", text }],
    ...(structured && isObject ? { structuredContent: json as Record<string, unknown> } : {}),
  };
  const settlement = response.headers.get("payment-response");
  if (settlement) result._meta = { [PAYMENT_RESPONSE_META]: decodePaymentResponseHeader(settlement) };
  if (response.headers.get("x-payment-deduped") === "true") result._meta = { ...result._meta, "x402/deduped": true };
  return result;
}
