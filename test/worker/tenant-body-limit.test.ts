// Issue 9 item 4: every request body to a tenant has a limit (MAX_TENANT_BODY_BYTES, 1 MiB):
// beyond it a 413 `payload_too_large` JSON envelope before any tenant work, by Content-Length
// when declared and by counting when streamed; bodies under it reach the tenant whole, and a
// body the tenant never reads is consumed by us. Through the real dispatcher.
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_TENANT_BODY_BYTES, checkTenantBodySize } from "../../src/http/body-limit.ts";
import { auth, call, CITIES_CSV, createCreator, deployOk, expectError, uniqueSlug } from "./helpers.ts";

const MiB = 1024 * 1024;
let dataset: string;
let fn: string;

// Counts the body it reads, so a test can tell whether the tenant ran.
const COUNTER = `export default async (req) => ({ method: req.method, bytes: (await req.arrayBuffer()).byteLength });`;

beforeAll(async () => {
  const { key } = await createCreator("Body Creator");
  dataset = uniqueSlug("body");
  await deployOk(key, dataset, CITIES_CSV);
  fn = uniqueSlug("bodyfn");
  const form = new FormData();
  form.set("code", new File([COUNTER], "index.js", { type: "application/javascript" }));
  form.set(
    "config",
    JSON.stringify({
      resource: { type: "function", allowedHosts: [] },
      rateLimit: { global: { requests: 1000, windowSeconds: 1 } },
    }),
  );
  const res = await call(`/v1/tenants/${fn}/deployments`, { method: "POST", headers: auth(key), body: form });
  if (res.status !== 201) throw new Error(`deploy ${fn}: ${res.status} ${await res.text()}`);
});

function streamOf(size: number, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      const n = Math.min(chunk, size - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n).fill(97));
    },
  });
}

describe("tenant request body limit", () => {
  it("refuses 2-5 MiB POSTs to a dataset tenant with 413 JSON, then keeps serving", async () => {
    for (const size of [2 * MiB, 5 * MiB]) {
      const body = await expectError(
        await call(`/t/${dataset}/v1/records`, { method: "POST", body: new Uint8Array(size) }),
        413,
        "payload_too_large",
      );
      expect(body.error.details).toEqual({ maxBytes: MAX_TENANT_BODY_BYTES });
    }
    const ok = await call(`/t/${dataset}/v1/records?limit=1`);
    expect(ok.status).toBe(200);
  });

  it("counts a streamed body without Content-Length and refuses it past the limit", async () => {
    const res = await call(`/t/${fn}/`, { method: "POST", body: streamOf(2 * MiB), duplex: "half" } as RequestInit);
    await expectError(res, 413, "payload_too_large");
  });

  it("passes bodies up to the limit to the tenant whole, streamed or declared", async () => {
    const declared = await call(`/t/${fn}/`, { method: "PUT", body: new Uint8Array(MAX_TENANT_BODY_BYTES) });
    expect(declared.status).toBe(200);
    expect(await declared.json()).toEqual({ method: "PUT", bytes: MAX_TENANT_BODY_BYTES });
    const streamed = await call(`/t/${fn}/`, {
      method: "POST",
      body: streamOf(300 * 1024),
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(200);
    expect(await streamed.json()).toEqual({ method: "POST", bytes: 300 * 1024 });
  });

  it("a body the tenant never reads is consumed: the dataset's 405 comes back as JSON", async () => {
    for (let i = 0; i < 5; i++) {
      await expectError(
        await call(`/t/${dataset}/v1/records`, { method: "POST", body: new Uint8Array(512 * 1024) }),
        405,
        "method_not_allowed",
      );
    }
  });

  it("the pre-check reads only the declared length", () => {
    const req = (headers: Record<string, string>) => new Request("http://localhost/t/x/", { method: "POST", headers });
    expect(checkTenantBodySize(req({}))).toBeNull();
    expect(checkTenantBodySize(req({ "content-length": String(MAX_TENANT_BODY_BYTES) }))).toBeNull();
    expect(checkTenantBodySize(req({ "content-length": String(MAX_TENANT_BODY_BYTES + 1) }))).toMatchObject({
      status: 413,
      code: "payload_too_large",
    });
    expect(checkTenantBodySize(req({ "content-length": "12abc" }))).toMatchObject({
      status: 400,
      code: "invalid_content_length",
    });
    expect(
      checkTenantBodySize(new Request("http://localhost/", { headers: { "content-length": String(9 * MiB) } })),
    ).toBeNull();
  });
});
