// Raw telemetry end to end inside workerd (docs/ARCHITECTURE.md §14): calls through the real
// dispatcher (HTTP, MCP, a paid challenge) land in the local TelemetrySink and GET
// /__platform/events lists them with `source: "local"`, without the caller's IP or self-label;
// the sink stays bounded; with the TELEMETRY binding the point goes to writeDataPoint instead; and
// the production read sends the exact SQL API request (URL, bearer token, validated SQL text).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_APPEND, SINK_CAPACITY, type SinkPoint } from "../../objects/telemetry/telemetry-sink.ts";
import { parseConfig } from "../../src/config/env.ts";
import { ApiError } from "../../src/http/errors.ts";
import { dataPointOf, rowOfPoint, type CallTelemetry } from "../../src/telemetry/data-point.ts";
import { recentTelemetry } from "../../src/telemetry/reader.ts";
import { recordTelemetry } from "../../src/telemetry/record.ts";
import type { TenantConfig } from "../../src/config/tenant-config.ts";
import { call, CITIES_CSV, createCreator, deployOk, OPERATOR, uniqueSlug } from "./helpers.ts";

const IP = "203.0.113.77";
const LABEL = "agent-label-7f3a";
const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

async function eventsOf(slug: string, n: number): Promise<any> {
  for (let i = 0; i < 50; i++) {
    const res = await call(`/__platform/events?api=${slug}&limit=50`, { headers: OPERATOR });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    if (body.items.length >= n) return body;
    await new Promise((r) => setTimeout(r, 40));
  }
  throw new Error(`fewer than ${n} telemetry events of ${slug}`);
}

describe("raw telemetry in development: the local sink", () => {
  it("records every call through the dispatcher, and the operator's view lists them", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("telem");
    await deployOk(creator.key, slug, CITIES_CSV);
    const headers = { "cf-connecting-ip": IP, "x-agent-id": LABEL };
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call(`/t/${slug}/v1/records?limit=1`, { headers });
      expect(res.status).toBe(200);
      ids.push(res.headers.get("x-request-id")!);
    }
    const rpc = { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "get_v1_schema", arguments: {} } };
    const mcp = await call(`/t/${slug}/mcp`, {
      method: "POST",
      headers: { ...MCP_HEADERS, ...headers },
      body: JSON.stringify(rpc),
    });
    expect(mcp.status).toBe(200);

    const body = await eventsOf(slug, 4);
    expect(body.source).toBe("local");
    expect(body.skipped).toBe(0);
    expect(body.items).toHaveLength(4);
    const [viaMcp, ...viaHttp] = body.items;
    expect(viaMcp).toMatchObject({ apiId: slug, transport: "mcp", operation: "GET /v1/schema", lifecycle: "served" });
    expect(viaHttp.map((e: any) => e.requestId)).toEqual([...ids].reverse());
    for (const e of viaHttp) {
      expect(e).toMatchObject({
        apiId: slug,
        owner: creator.id,
        directory: "general",
        status: 200,
        lifecycle: "served",
        env: "test",
        network: "eip155:84532",
        transport: "http",
        operation: "GET /v1/records",
        facilitator: "",
        priceAtomic: "0",
        countable: true,
      });
      expect(e.caller).toMatch(/^ip:[0-9a-f]{24}$/);
      expect(e.latencyMs).toBeGreaterThanOrEqual(0);
    }
    expect(new Set(body.items.map((e: any) => e.caller)).size).toBe(1); // MCP carries the same identity
    const text = JSON.stringify(body);
    expect(text).not.toContain(IP);
    expect(text).not.toContain(LABEL);
    expect(text).not.toContain("limit=1");
    expect(body.shards[0].counters).toEqual(expect.objectContaining({ accepted: expect.any(Number) }));
  });

  it("records a paid API's challenge with its price, and filters by API", async () => {
    const creator = await createCreator();
    const paid = uniqueSlug("telem-paid");
    const payTo = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
    await deployOk(creator.key, paid, CITIES_CSV, { config: { priceUsd: 0.002, payTo } });
    expect((await call(`/t/${paid}/v1/records`)).status).toBe(402);
    const body = await eventsOf(paid, 1);
    expect(body.items).toHaveLength(1);
    expect(body.items[0]).toMatchObject({
      apiId: paid,
      status: 402,
      lifecycle: "payment_challenged",
      priceAtomic: "2000",
      billedAtomic: "0",
      countable: false,
    });
  });

  it("stays bounded: the ring keeps the newest SINK_CAPACITY points", async () => {
    const sink = env.TELEMETRY_SINK!.get(env.TELEMETRY_SINK!.idFromName(`bounded-${crypto.randomUUID()}`));
    const total = SINK_CAPACITY + 2 * MAX_APPEND + 7;
    let size = 0;
    for (let start = 0; start < total; start += MAX_APPEND) {
      const batch: SinkPoint[] = [];
      for (let i = start; i < Math.min(total, start + MAX_APPEND); i++) {
        batch.push({ index1: i % 2 ? "odd-api" : "even-api", blobs: [`req_${i}`], doubles: [i] });
      }
      size = await sink.append(batch);
      expect(size).toBeLessThanOrEqual(SINK_CAPACITY);
      expect(size).toBe(await sink.size());
    }
    expect(size).toBe(SINK_CAPACITY);
    const newest = await sink.recent({ limit: 3 });
    expect(newest.map((r) => r.blob1)).toEqual([`req_${total - 1}`, `req_${total - 2}`, `req_${total - 3}`]);
    const odd = await sink.recent({ index: "odd-api", limit: 2 });
    expect(odd.map((r) => r.double1)).toEqual([total - 1, total - 3].map((n) => (n % 2 ? n : n - 1)));
    const oldest = await sink.recent({ limit: SINK_CAPACITY });
    expect(oldest.at(-1)!.blob1).toBe(`req_${total - SINK_CAPACITY}`);
  });
});

describe("the local sink keeps each point exactly", () => {
  it("any text in the index and blobs, any number in the doubles, in order", async () => {
    const sink = env.TELEMETRY_SINK!.get(env.TELEMETRY_SINK!.idFromName(`exact-${crypto.randomUUID()}`));
    const points: SinkPoint[] = [
      { index1: 'api "quoted" \\ 𝄞', blobs: ["é", "", "a,b", '{"x":1}', "\u0000"], doubles: [0, -1.5, 1e300] },
      { index1: "api", blobs: [], doubles: [Number.NaN] },
      { index1: "api", blobs: ["last"], doubles: [] },
    ];
    expect(await sink.append(points)).toBe(3);
    expect(await sink.append([])).toBe(3);
    const rows = await sink.recent({ limit: 3 });
    expect(rows[0]).toEqual({ index1: "api", blob1: "last" });
    expect(rows[1]).toEqual({ index1: "api", double1: null });
    expect(rows[2]).toEqual({
      index1: 'api "quoted" \\ 𝄞',
      blob1: "é",
      blob2: "",
      blob3: "a,b",
      blob4: '{"x":1}',
      blob5: "\u0000",
      double1: 0,
      double2: -1.5,
      double3: 1e300,
    });
  });
});

describe("raw telemetry in production: Analytics Engine", () => {
  const config = parseConfig({
    API_KEY_SECRET: "k",
    CF_ACCOUNT_ID: "0123456789abcdef0123456789abcdef",
    CF_API_TOKEN: "tok-analytics-read",
    CF_API_BASE: "https://cf.example/client/v4/",
  });
  const withBinding = { ...env, TELEMETRY: { writeDataPoint: () => {} } } as unknown as Env;
  const URL_ = "https://cf.example/client/v4/accounts/0123456789abcdef0123456789abcdef/analytics_engine/sql";
  const COLUMNS =
    "index1, blob1, blob2, blob3, blob4, blob5, blob6, blob7, blob8, blob9, blob10, blob11, blob12, " +
    "double1, double2, double3, _sample_interval";

  function recorder(answer: () => Response) {
    const seen: { url: string; method?: string; headers: Headers; body: string }[] = [];
    const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push({
        url: String(input),
        method: init?.method,
        headers: new Headers(init?.headers),
        body: String(init?.body),
      });
      return answer();
    }) as typeof fetch;
    return { seen, fetcher };
  }

  it("writes the call's point with writeDataPoint, synchronously, and nothing to the local sink", async () => {
    const points: AnalyticsEngineDataPoint[] = [];
    const dataset = { writeDataPoint: (p: AnalyticsEngineDataPoint) => void points.push(p) };
    const ctx = { waitUntil: () => expect.unreachable("no waitUntil on the production path") };
    const tenant = { slug: "weather-api", owner: "cr_9", directory: "geo", network: "eip155:84532", priceUsd: 0.001 };
    const prodConfig = parseConfig({
      API_KEY_SECRET: "k",
      DEPLOY_ENV: "prod",
      FACILITATOR_URL: "https://f.example/k/1",
    });
    const result = recordTelemetry(
      {
        env: { TELEMETRY: dataset } as unknown as Env,
        ctx: ctx as unknown as ExecutionContext,
        config: prodConfig,
        requestId: "req_w",
        startedAt: 5,
      },
      tenant as TenantConfig,
      { method: "GET", path: "/v1/records" },
      { requestId: "req_w", ts: 5, caller: "0xAbC", status: 200, latencyMs: 7, outcome: "payment_settled" },
    );
    expect(result).toBeUndefined();
    expect(points).toHaveLength(1);
    expect(points[0]).toEqual({
      indexes: ["weather-api"],
      blobs: [
        "req_w",
        "weather-api",
        "cr_9",
        "geo",
        "0xAbC",
        "payment_settled",
        "prod",
        "eip155:84532",
        "f.example",
        "http",
        "GET /v1/records",
        "1000",
      ],
      doubles: [5, 200, 7],
    });
  });

  it("reads the SQL API with the exact request and decodes its rows", async () => {
    const t = telemetry({ requestId: "req_2", ts: 2_000 });
    const rows = [rowOfPoint(dataPointOf(telemetry({ ts: 1_000 }))), rowOfPoint(dataPointOf(t)), { index1: "x" }];
    const { seen, fetcher } = recorder(() => Response.json({ meta: [], data: rows, rows: rows.length }));
    const out = await recentTelemetry(withBinding, config, { api: "weather-api", limit: 25 }, fetcher);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe(URL_);
    expect(seen[0]!.method).toBe("POST");
    expect(seen[0]!.headers.get("authorization")).toBe("Bearer tok-analytics-read");
    expect(seen[0]!.body).toBe(
      `SELECT ${COLUMNS} FROM claw_calls WHERE index1 = 'weather-api' ORDER BY timestamp DESC LIMIT 25 FORMAT JSON`,
    );
    expect(out.source).toBe("analytics_engine");
    expect(out.skipped).toBe(1);
    expect(out.sampled).toBe(false);
    expect(out.items.map((e) => [e.requestId, e.ts])).toEqual([
      ["req_2", 2_000],
      ["req_1", 1_000],
    ]);
    expect(out.items[0]).toMatchObject({ facilitator: "x402.example", transport: "http", billedAtomic: "1000" });

    rows.push({ ...rows[1], _sample_interval: 4 });
    expect((await recentTelemetry(withBinding, config, { api: null, limit: 1000 }, fetcher)).sampled).toBe(true);
    expect(seen[1]!.body).toBe(`SELECT ${COLUMNS} FROM claw_calls ORDER BY timestamp DESC LIMIT 1000 FORMAT JSON`);
  });

  it("never inlines an unvalidated slug or limit, and reports the SQL API's refusals as 502", async () => {
    const { seen, fetcher } = recorder(() => new Response("tok-analytics-read is not allowed", { status: 403 }));
    for (const bad of [
      { api: "x' OR 1=1 --", limit: 10 },
      { api: "Weather", limit: 10 },
      { api: "ok-slug", limit: 0 },
      { api: "ok-slug", limit: 1001 },
      { api: "ok-slug", limit: 1.5 },
    ]) {
      const err = await recentTelemetry(withBinding, config, bad, fetcher).catch((e) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect(err.code).toBe("invalid_parameter");
    }
    expect(seen).toHaveLength(0);
    const refused = await recentTelemetry(withBinding, config, { api: "ok-slug", limit: 5 }, fetcher).catch((e) => e);
    expect(refused).toMatchObject({ code: "telemetry_failed", status: 502 });
    expect(JSON.stringify(refused.details)).not.toContain("tok-analytics-read");
    const unset = parseConfig({ API_KEY_SECRET: "k" });
    const missing = await recentTelemetry(withBinding, unset, { api: null, limit: 5 }, fetcher).catch((e) => e);
    expect(missing).toMatchObject({ code: "telemetry_unavailable", status: 503 });
    expect(seen).toHaveLength(1);
  });
});

function telemetry(over: Partial<CallTelemetry> = {}): CallTelemetry {
  return {
    requestId: "req_1",
    apiId: "weather-api",
    owner: "cr_1",
    directory: "geo",
    caller: "0x00000000000000000000000000000000000000aa",
    lifecycle: "payment_settled",
    env: "prod",
    network: "eip155:8453",
    facilitator: "x402.example",
    transport: "http",
    operation: "GET /v1/records",
    priceAtomic: "1000",
    ts: 1_000,
    status: 200,
    latencyMs: 30,
    ...over,
  };
}
