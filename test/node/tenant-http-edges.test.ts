// Issue 9 items 2 and 4 over real HTTP (wrangler dev started by `claw dev`, as a caller meets it):
// 2-5 MiB POSTs to a dataset tenant get a 413 JSON envelope (not a 500 text/plain or a reset),
// declared or chunked; the connection keeps serving afterwards; `//` paths are the tenant's
// literal paths. State lives in a temp dir (test/node/support/claw-dev.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClawDev, startClawDev } from "./support/claw-dev.ts";

const MiB = 1024 * 1024;
let stack: ClawDev<{ demos: { slug: string; url: string }[] }> | undefined;
let demoUrl: string;

beforeAll(async () => {
  // The demo market is not needed here; its seeding would only slow the start.
  stack = await startClawDev(["--no-demo-traffic"]);
  demoUrl = stack.summary.demos.find((d) => d.slug === "world-cities")!.url;
}, 200_000);

afterAll(async () => {
  await stack?.stop();
});

async function expectEnvelope(res: Response, status: number, code: string): Promise<void> {
  expect(res.headers.get("content-type")).toContain("application/json");
  const body = (await res.json()) as { error?: { code?: string }; requestId?: string };
  expect(`${res.status} ${body.error?.code}`).toBe(`${status} ${code}`);
  expect(body.requestId).toBe(res.headers.get("x-request-id"));
}

function chunked(size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      sent += 64 * 1024;
      controller.enqueue(new Uint8Array(64 * 1024).fill(120));
    },
  });
}

describe("tenant request bodies over HTTP", () => {
  it("2-5 MiB POSTs to a dataset tenant: 413 payload_too_large JSON, then the API keeps serving", async () => {
    for (const size of [2 * MiB, 3 * MiB, 5 * MiB]) {
      await expectEnvelope(
        await fetch(`${demoUrl}v1/records`, { method: "POST", body: new Uint8Array(size) }),
        413,
        "payload_too_large",
      );
      const after = await fetch(`${demoUrl}v1/records?limit=1`);
      expect(after.status).toBe(200);
    }
  });

  it("a chunked body past the limit is counted and refused the same way", async () => {
    const res = await fetch(`${demoUrl}v1/records`, {
      method: "POST",
      body: chunked(3 * MiB),
      duplex: "half",
    } as RequestInit);
    await expectEnvelope(res, 413, "payload_too_large");
    expect((await fetch(`${demoUrl}health`)).status).toBe(200);
  });

  it("an unread body under the limit: the dataset's 405 JSON, repeatedly, on a sound connection", async () => {
    for (let i = 0; i < 5; i++) {
      await expectEnvelope(
        await fetch(`${demoUrl}v1/records`, { method: "POST", body: new Uint8Array(900 * 1024) }),
        405,
        "method_not_allowed",
      );
    }
    expect((await fetch(`${demoUrl}v1/schema`)).status).toBe(200);
  });
});

describe("paths beginning with // over HTTP", () => {
  it("are the dataset tenant's own 404, never 5xx, never another host", async () => {
    const base = demoUrl.replace(/\/$/, "");
    for (const path of ["//%00", "//a:b", "//:99999", "//[", "//;", "//x;0/v1/records", "//evil.example/v1/schema"]) {
      await expectEnvelope(await fetch(`${base}${path}`), 404, "not_found");
    }
  });
});
