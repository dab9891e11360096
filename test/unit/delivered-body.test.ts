// deliveredBody (src/http/delivered-body.ts): the paid flow's commit waits for it, so it must settle
// only once the bytes were taken (or after its cap), never reject, and deliver them exactly. A
// small body is its bytes, delivered the grace after the call.
import { describe, expect, it } from "vitest";
import { deliveredBody, SMALL_BODY_BYTES } from "../../src/http/delivered-body.ts";

/** A body past SMALL_BODY_BYTES (so it goes as a stream) whose first bytes are `head`. */
const large = (head: number[] = [1, 2, 3]) => {
  const bytes = new Uint8Array(SMALL_BODY_BYTES + 1);
  bytes.set(head);
  return bytes;
};
const streamOf = (body: ReadableStream<Uint8Array> | ArrayBuffer | null) => {
  if (!(body instanceof ReadableStream)) throw new Error("expected a stream");
  return body;
};

const settledYet = async (p: Promise<void>) => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 20));
  return done;
};

describe("deliveredBody", () => {
  it("settles once the body was read, with the exact bytes and length", async () => {
    const json = JSON.stringify({ items: Array.from({ length: 20_000 }, (_, i) => i) });
    const bytes = new TextEncoder().encode(json);
    expect(bytes.byteLength).toBeGreaterThan(SMALL_BODY_BYTES);
    const { body, delivered } = deliveredBody(bytes.buffer as ArrayBuffer, { capMs: 5_000, graceMs: 0 });
    const response = new Response(streamOf(body));
    expect(await settledYet(delivered)).toBe(false);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
    await delivered;
  });

  it("settles after the cap when nobody reads, and never rejects", async () => {
    const { delivered } = deliveredBody(large().buffer, { capMs: 50, graceMs: 0 });
    expect(await settledYet(delivered)).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    expect(await settledYet(delivered)).toBe(true);
  });

  it("settles when the reader cancels", async () => {
    const { body, delivered } = deliveredBody(large().buffer, { capMs: 5_000, graceMs: 0 });
    await streamOf(body).cancel();
    await delivered;
  });

  it("an empty body is no body, delivered after the grace", async () => {
    const { body, delivered } = deliveredBody(new ArrayBuffer(0), { capMs: 5_000, graceMs: 0 });
    expect(body).toBeNull();
    expect(await settledYet(delivered)).toBe(true);
  });

  it("settles only the grace after the body was taken", async () => {
    const bytes = large([7, 8, 9]);
    const { body, delivered } = deliveredBody(bytes.buffer, { capMs: 5_000, graceMs: 200 });
    expect(new Uint8Array(await new Response(streamOf(body)).arrayBuffer())).toEqual(bytes);
    expect(await settledYet(delivered)).toBe(false);
    await delivered;
  });

  it("the cap bounds the grace too", async () => {
    const { body, delivered } = deliveredBody(large().buffer, { capMs: 60, graceMs: 10_000 });
    await new Response(streamOf(body)).arrayBuffer();
    await new Promise((r) => setTimeout(r, 80));
    expect(await settledYet(delivered)).toBe(true);
  });

  it("a small body is its bytes, delivered the grace after the call whether read or not", async () => {
    const bytes = new Uint8Array(SMALL_BODY_BYTES).fill(5);
    const { body, delivered } = deliveredBody(bytes.buffer, { capMs: 5_000, graceMs: 40 });
    expect(body).toBeInstanceOf(ArrayBuffer);
    expect(await settledYet(delivered)).toBe(false);
    const response = new Response(body);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
    await new Promise((r) => setTimeout(r, 40));
    expect(await settledYet(delivered)).toBe(true);
  });
});
