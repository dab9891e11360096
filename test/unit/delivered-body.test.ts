// deliveredBody (src/http/delivered-body.ts): the paid flow's commit waits for it, so it must settle
// only once the bytes were taken (or after its cap), never reject, and deliver them exactly.
import { describe, expect, it } from "vitest";
import { deliveredBody } from "../../src/http/delivered-body.ts";

const settledYet = async (p: Promise<void>) => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 20));
  return done;
};

describe("deliveredBody", () => {
  it("settles once the body was read, with the exact bytes and length", async () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ items: Array.from({ length: 500 }, (_, i) => i) }));
    const { body, delivered } = deliveredBody(bytes.buffer as ArrayBuffer, 5_000);
    const response = new Response(body);
    expect(await settledYet(delivered)).toBe(false);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
    await delivered;
  });

  it("settles after the cap when nobody reads, and never rejects", async () => {
    const { delivered } = deliveredBody(new Uint8Array([1, 2, 3]).buffer, 50);
    expect(await settledYet(delivered)).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    expect(await settledYet(delivered)).toBe(true);
  });

  it("settles when the reader cancels", async () => {
    const { body, delivered } = deliveredBody(new Uint8Array(64 * 1024).buffer, 5_000);
    await body!.cancel();
    await delivered;
  });

  it("an empty body is no body, delivered at once", async () => {
    const { body, delivered } = deliveredBody(new ArrayBuffer(0), 5_000);
    expect(body).toBeNull();
    expect(await settledYet(delivered)).toBe(true);
  });
});
