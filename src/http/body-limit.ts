// The size limit on every request body sent to a tenant (docs/ARCHITECTURE.md §8), pure parts:
// the cheap pre-check on the declared Content-Length (callable before any metering) and the
// bounded read that counts a streamed/chunked body. Beyond the limit: `413 payload_too_large`,
// before any tenant work. Bodies are read whole by the dispatcher, so a tenant that never reads
// its body cannot leave the caller's connection half-read.
import { ApiError } from "./errors.ts";

/** 1 MiB: generous for an API call's JSON or form body; uploads of data go through deploys. */
export const MAX_TENANT_BODY_BYTES = 1024 * 1024;

const CONTENT_LENGTH = /^\d{1,15}$/;

export function payloadTooLarge(size: number | null, maxBytes = MAX_TENANT_BODY_BYTES): ApiError {
  const what = size === null ? `request body is larger than ${maxBytes} bytes` : `request body is ${size} bytes`;
  return new ApiError(413, "payload_too_large", `${what}; the limit for a tenant call is ${maxBytes} bytes`, {
    maxBytes,
  });
}

/** Methods whose body is never forwarded to a tenant (the fetch API cannot carry one). */
export function carriesBody(method: string): boolean {
  const m = method.toUpperCase();
  return m !== "GET" && m !== "HEAD";
}

/**
 * The pre-check by declared length: 413 over the limit, 400 for a Content-Length that is not a
 * plain byte count, null when acceptable or unknown (a chunked body is counted as it is read).
 * GET and HEAD bodies are never forwarded (they are cancelled), so they are not checked.
 */
export function checkTenantBodySize(request: Request, maxBytes = MAX_TENANT_BODY_BYTES): ApiError | null {
  if (!carriesBody(request.method)) return null;
  const raw = request.headers.get("content-length");
  if (raw === null) return null;
  const text = raw.trim();
  if (!CONTENT_LENGTH.test(text)) {
    return new ApiError(400, "invalid_content_length", "Content-Length must be a non-negative integer byte count");
  }
  const declared = Number(text);
  return declared > maxBytes ? payloadTooLarge(declared, maxBytes) : null;
}

/**
 * How much of an over-limit body is still read (and dropped) before the 413 goes out. Answering
 * while the caller is still uploading lets the connection close under it (EPIPE, or a proxy's
 * text/plain error instead of our JSON); reading the rest first lets it read the 413. Bounded, so
 * a huge upload is cut off rather than read to its end.
 */
export const OVER_LIMIT_DRAIN_BYTES = 16 * 1024 * 1024;

/** Reads and drops what is left of `reader`, up to `budget` bytes; then cancels the stream. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, budget: number): Promise<void> {
  let left = budget;
  try {
    while (left > 0) {
      const step = await reader.read();
      if (step.done) return;
      left -= step.value.byteLength;
    }
  } catch {
    return; // the caller went away: nothing left to protect
  }
  await reader.cancel().catch(() => undefined);
}

/**
 * Reads a body stream to its end, counting; past `maxBytes` it drains up to
 * OVER_LIMIT_DRAIN_BYTES more, cancels the stream and throws 413. A stream that fails while being
 * read (the caller went away) is a 400, never a 5xx.
 */
export async function readBoundedBody(
  body: ReadableStream<Uint8Array>,
  maxBytes = MAX_TENANT_BODY_BYTES,
): Promise<Uint8Array<ArrayBuffer>> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let step: ReadableStreamReadResult<Uint8Array>;
    try {
      step = await reader.read();
    } catch {
      throw new ApiError(400, "body_unreadable", "the request body could not be read to its end");
    }
    if (step.done) break;
    size += step.value.byteLength;
    if (size > maxBytes) {
      await drain(reader, OVER_LIMIT_DRAIN_BYTES);
      throw payloadTooLarge(null, maxBytes);
    }
    chunks.push(step.value);
  }
  const out = new Uint8Array(new ArrayBuffer(size));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
