// The dataset tenant engine: routing, envelope, request-id echo, 404/405, traversal, load failures
// and load coalescing through worker.ts directly; then the bundled DATASET_ENGINE_SOURCE through
// the real Worker Loader (needs `node scripts/build-runtimes.mjs` first). Through the loader only
// data-free paths are checked: a Fetcher for DATASET must be an entrypoint of the parent worker
// (workerd refuses to pass one loaded worker's entrypoint to another), which is the dispatcher's job.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { parseDataset } from "../../src/runtimes/dataset/parse.ts";
import engine, { resetDatasetCache } from "../../src/runtimes/dataset/worker.ts";
import { DATASET_ENGINE_SHA256, DATASET_ENGINE_SOURCE } from "../../src/runtimes/generated/dataset-engine.ts";

const DATASET = parseDataset("id,name,city,score\n1,Ada,Oslo,9.5\n2,Bob,Rome,7\n3,Cy,Oslo,\n42,Dee,Lima,3\n", "csv");
const DATASET_JSON = JSON.stringify(DATASET);

function fakeStore(body: string = DATASET_JSON, status = 200) {
  const store = {
    calls: 0,
    async fetch(input: RequestInfo | URL): Promise<Response> {
      store.calls++;
      expect(String(input instanceof Request ? input.url : input)).toBe("https://dataset.internal/");
      await new Promise((r) => setTimeout(r, 5));
      return new Response(body, { status });
    },
  };
  return store;
}

async function call(path: string, init: RequestInit & { store?: ReturnType<typeof fakeStore> | null } = {}) {
  const { store = fakeStore(), ...rest } = init;
  const headers = new Headers(rest.headers);
  if (!headers.has("x-request-id")) headers.set("x-request-id", "req-123");
  const res = await engine.fetch(new Request(`https://tenant.example${path}`, { ...rest, headers }), {
    DATASET: (store ?? undefined) as unknown as Fetcher,
  });
  const text = await res.text();
  return { res, text, body: text ? (JSON.parse(text) as Record<string, any>) : null };
}

afterEach(() => resetDatasetCache());

describe("dataset engine routes", () => {
  it("GET / lists the endpoints without loading data", async () => {
    const store = fakeStore();
    const { res, body } = await call("/", { store });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(body!.endpoints.map((e: { path: string }) => e.path)).toEqual([
      "/v1/records",
      "/v1/records/{id}",
      "/v1/schema",
      "/health",
    ]);
    expect(store.calls).toBe(0);
  });

  it("GET /health and /v1/schema", async () => {
    expect((await call("/health")).body).toEqual({ ok: true, rows: 4 });
    const { res, body } = await call("/v1/schema");
    expect(res.status).toBe(200);
    expect(body).toEqual({ fields: DATASET.schema.fields, idField: "id", rows: 4 });
  });

  it("GET /v1/records runs the query", async () => {
    const { res, body } = await call("/v1/records?city=Oslo&sort=-score&fields=id,score");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("x-request-id")).toBe("req-123");
    expect(body).toEqual({
      items: [
        { id: 1, score: 9.5 },
        { id: 3, score: null },
      ],
      total: 2,
      limit: 100,
      offset: 0,
      nextOffset: null,
      nextCursor: null,
    });
    expect((await call("/v1/records/")).body!.total).toBe(4);
  });

  it("GET /v1/records/:id with typed ids", async () => {
    const { res, body } = await call("/v1/records/42");
    expect(res.status).toBe(200);
    expect(body).toEqual({ id: 42, name: "Dee", city: "Lima", score: 3 });
    expect((await call("/v1/records/2?fields=name")).body).toEqual({ name: "Bob" });
  });

  it("errors use the envelope and echo the request id", async () => {
    const { res, body } = await call("/v1/records?limit=-1", { headers: { "x-request-id": "abc-9" } });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("x-request-id")).toBe("abc-9");
    expect(body).toEqual({
      error: {
        code: "invalid_parameter",
        message: expect.any(String),
        details: expect.objectContaining({ param: "limit" }),
      },
      requestId: "abc-9",
    });
    expect((await call("/v1/records?nope=1")).body!.error.code).toBe("unknown_field");
    expect((await call("/v1/records?id=x")).body!.error.code).toBe("invalid_filter");
  });

  it("generates a request id when none is sent", async () => {
    const res = await engine.fetch(new Request("https://t.example/nope"), {
      DATASET: fakeStore() as unknown as Fetcher,
    });
    const body = (await res.json()) as { requestId: string };
    expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("x-request-id")).toBe(body.requestId);
  });

  it("unknown paths are 404 not_found", async () => {
    for (const path of [
      "/nope",
      "/v1",
      "/v1/records-x",
      "/v2/records",
      "/etc/passwd",
      "/v1/records/../../etc/passwd",
      "/v1/records/%2e%2e/%2e%2e/etc/passwd",
    ]) {
      const { res, body } = await call(path);
      expect(res.status, path).toBe(404);
      expect(body!.error.code, path).toBe("not_found");
      expect(body!.requestId).toBe("req-123");
    }
  });

  it("ids that look like paths are just records that do not exist", async () => {
    for (const path of [
      "/v1/records/..%2F..%2Fetc%2Fpasswd",
      "/v1/records/%2e%2e%2fsecret",
      "/v1/records/%E0%A4%A",
      "/v1/records/a/b/c",
      "/v1/records/999",
      "/v1/records/%00",
    ]) {
      const { res, body } = await call(path);
      expect(res.status, path).toBe(404);
      expect(body!.error.code, path).toBe("record_not_found");
    }
    const { body } = await call("/v1/records/..%2F..%2Fetc%2Fpasswd");
    expect(body!.error.details).toEqual({ id: "../../etc/passwd" });
  });

  it("non-GET methods are 405 with Allow", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const { res, body } = await call("/v1/records", { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, HEAD");
      expect(body).toMatchObject({ error: { code: "method_not_allowed" }, requestId: "req-123" });
    }
  });

  it("HEAD answers headers only", async () => {
    const { res, text } = await call("/v1/records", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(text).toBe("");
    expect((await call("/v1/records/999", { method: "HEAD" })).res.status).toBe(404);
  });
});

describe("dataset loading", () => {
  it("loads once for concurrent first requests and caches afterwards", async () => {
    const store = fakeStore();
    const results = await Promise.all(Array.from({ length: 8 }, () => call("/health", { store })));
    expect(results.every((r) => r.res.status === 200)).toBe(true);
    await call("/v1/records", { store });
    expect(store.calls).toBe(1);
  });

  it("503 dataset_unavailable when the binding is missing, failing or serving junk; retries later", async () => {
    const missing = await call("/health", { store: null });
    expect(missing.res.status).toBe(503);
    expect(missing.body).toMatchObject({
      error: { code: "dataset_unavailable", details: { reason: "no_dataset_binding" } },
      requestId: "req-123",
    });
    expect(missing.res.headers.get("retry-after")).toBe("1");

    for (const [store, reason] of [
      [fakeStore("nope", 500), "dataset_store_status_500"],
      [fakeStore("not json"), "dataset_not_json"],
      [fakeStore('{"schema":{},"rows":[]}'), "dataset_invalid"],
    ] as const) {
      const { res, body } = await call("/v1/records", { store });
      expect(res.status).toBe(503);
      expect(body!.error.details.reason).toBe(reason);
    }
    const throwing = { fetch: async () => Promise.reject(new Error("boom")) };
    expect(
      (await call("/health", { store: throwing as unknown as ReturnType<typeof fakeStore> })).body!.error.details
        .reason,
    ).toBe("dataset_store_unreachable");

    // A failed load is not cached: the next request with a working store succeeds.
    expect((await call("/health")).body).toEqual({ ok: true, rows: 4 });
  });
});

describe("bundled engine in the Worker Loader", () => {
  const code = (extra: Partial<WorkerLoaderWorkerCode> = {}): WorkerLoaderWorkerCode => ({
    compatibilityDate: "2026-10-01",
    mainModule: "engine.js",
    modules: { "engine.js": DATASET_ENGINE_SOURCE },
    env: {},
    globalOutbound: null,
    ...extra,
  });

  it("is a self-contained ES module with a sha256", () => {
    expect(DATASET_ENGINE_SHA256).toMatch(/^[0-9a-f]{64}$/);
    expect(DATASET_ENGINE_SOURCE).toContain("export");
    expect(DATASET_ENGINE_SOURCE).not.toMatch(/\bimport\s*[{*"']/);
    expect(DATASET_ENGINE_SOURCE.toLowerCase()).not.toContain("papaparse");
  });

  it("serves GET / and answers 503 without a DATASET binding", async () => {
    const worker = env.LOADER.load(code()).getEntrypoint();
    const index = await worker.fetch("https://t.example/", { headers: { "x-request-id": "r-1" } });
    expect(index.status).toBe(200);
    expect(((await index.json()) as { endpoints: unknown[] }).endpoints).toHaveLength(4);
    const health = await worker.fetch("https://t.example/health", { headers: { "x-request-id": "r-2" } });
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ error: { code: "dataset_unavailable" }, requestId: "r-2" });
    const post = await worker.fetch("https://t.example/v1/records", {
      method: "POST",
      headers: { "x-request-id": "r-3" },
    });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });
});
