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
    const { body, delivered } = deliveredBody(bytes.buffer as ArrayBuffer, { capMs: 5_000, graceMs: 0 });
    const response = new Response(body);
    expect(await settledYet(delivered)).toBe(false);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
    await delivered;
  });

  it("settles after the cap when nobody reads, and never rejects", async () => {
    const { delivered } = deliveredBody(new Uint8Array([1, 2, 3]).buffer, { capMs: 50, graceMs: 0 });
    expect(await settledYet(delivered)).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    expect(await settledYet(delivered)).toBe(true);
  });

  it("settles when the reader cancels", async () => {
    const { body, delivered } = deliveredBody(new Uint8Array(64 * 1024).buffer, { capMs: 5_000, graceMs: 0 });
    await body!.cancel();
    await delivered;
  });

  it("an empty body is no body, delivered after the grace", async () => {
    const { body, delivered } = deliveredBody(new ArrayBuffer(0), { capMs: 5_000, graceMs: 0 });
    expect(body).toBeNull();
    expect(await settledYet(delivered)).toBe(true);
  });

  it("settles only the grace after the body was taken", async () => {
    const bytes = new Uint8Array([7, 8, 9]);
    const { body, delivered } = deliveredBody(bytes.buffer, { capMs: 5_000, graceMs: 200 });
    expect(new Uint8Array(await new Response(body).arrayBuffer())).toEqual(bytes);
    expect(await settledYet(delivered)).toBe(false);
    await delivered;
  });

  it("the cap bounds the grace too", async () => {
    const { body, delivered } = deliveredBody(new Uint8Array([1]).buffer, { capMs: 60, graceMs: 10_000 });
    await new Response(body).arrayBuffer();
    await new Promise((r) => setTimeout(r, 80));
    expect(await settledYet(delivered)).toBe(true);
  });
});
