// Responses kept with settled payments for idempotent replay (docs/ARCHITECTURE.md §4): what the
// dispatcher hands to `commit` is normalised and bounded here, and a payment settled by
// reconciliation (whose content was never sent) replays a small JSON receipt. Pure.
import { MAX_STORED_BODY_BYTES, type StoredResponse } from "./types.ts";

/** Decoded size of a base64 string (padding-aware; tolerant of missing padding). */
export function base64DecodedLength(b64: string): number {
  let len = b64.length;
  while (len > 0 && b64.charCodeAt(len - 1) === 61 /* = */) len -= 1;
  return Math.floor((len * 3) / 4);
}

/** Header bytes kept with a stored response; headers beyond it are dropped. */
export const MAX_STORED_HEADER_BYTES = 32 * 1024;

/**
 * Normalises what the dispatcher hands to `commit`: integer status (200 if absurd), string
 * headers only (bounded), and the body dropped (`bodyBase64: null, bodyOmitted: true`) when it is
 * larger than MAX_STORED_BODY_BYTES or not a string. Never throws.
 */
export function capStoredResponse(input: unknown): StoredResponse {
  const r = input && typeof input === "object" ? (input as Partial<StoredResponse>) : {};
  const valid = typeof r.status === "number" && Number.isInteger(r.status) && r.status >= 100 && r.status <= 599;
  const status = valid ? (r.status as number) : 200;
  const headers: Record<string, string> = {};
  let headerBytes = 0;
  if (r.headers && typeof r.headers === "object") {
    for (const [name, value] of Object.entries(r.headers)) {
      if (typeof value !== "string") continue;
      headerBytes += name.length + value.length;
      if (headerBytes > MAX_STORED_HEADER_BYTES) break;
      headers[name] = value;
    }
  }
  const body = typeof r.bodyBase64 === "string" ? r.bodyBase64 : null;
  if (body !== null && base64DecodedLength(body) <= MAX_STORED_BODY_BYTES) {
    return { status, headers, bodyBase64: body, bodyOmitted: false };
  }
  return { status, headers, bodyBase64: null, bodyOmitted: body !== null || r.bodyOmitted === true };
}

/** What a replay of a payment settled by reconciliation returns: its content was never sent. */
export function reconciledResponse(transaction: string | null): StoredResponse {
  const body = JSON.stringify({ settled: true, transaction });
  return { status: 200, headers: { "content-type": "application/json" }, bodyBase64: btoa(body), bodyOmitted: false };
}
