// readBoundedBody past the limit (src/http/body-limit.ts): the rest of the upload is read and
// dropped before the 413, so the caller can read the answer, but only up to OVER_LIMIT_DRAIN_BYTES;
// an endless upload is cancelled there.
import { describe, expect, it } from "vitest";
import { MAX_TENANT_BODY_BYTES, OVER_LIMIT_DRAIN_BYTES, readBoundedBody } from "../../src/http/body-limit.ts";

const CHUNK = 64 * 1024;

/** A stream of `chunks` 64 KiB chunks (Infinity: endless); counts what was pulled and whether it was cancelled. */
function upload(chunks: number) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled >= chunks) return controller.close();
      seen.pulled += 1;
      controller.enqueue(new Uint8Array(CHUNK));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { stream, seen };
}

describe("an over-limit body", () => {
  it("is read to its end before the 413 when it ends within the drain budget", async () => {
    const { stream, seen } = upload((3 * 1024 * 1024) / CHUNK);
    await expect(readBoundedBody(stream)).rejects.toMatchObject({ status: 413, code: "payload_too_large" });
    expect(seen.pulled).toBe((3 * 1024 * 1024) / CHUNK);
    expect(seen.cancelled).toBe(false);
  });

  it("is cancelled once the drain budget is spent", async () => {
    const { stream, seen } = upload(Number.POSITIVE_INFINITY);
    await expect(readBoundedBody(stream)).rejects.toMatchObject({ status: 413, code: "payload_too_large" });
    expect(seen.cancelled).toBe(true);
    const read = seen.pulled * CHUNK;
    expect(read).toBeGreaterThan(MAX_TENANT_BODY_BYTES + OVER_LIMIT_DRAIN_BYTES - CHUNK);
    expect(read).toBeLessThan(MAX_TENANT_BODY_BYTES + OVER_LIMIT_DRAIN_BYTES + 4 * CHUNK);
  });
});
