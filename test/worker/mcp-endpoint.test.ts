// The MCP endpoints through the real dispatcher (docs/ARCHITECTURE.md §12), as raw JSON-RPC over
// Streamable HTTP: tools lists on the platform, path-mode and host-mode servers, a paid tool's
// payment-required result, and bad input (unknown tool, arguments failing the schema, malformed
// `_meta` payment, bad JSON, oversized bodies, other methods) answered without a 5xx.
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { auth, call, CITIES_CSV, createCreator, deployOk, uniqueSlug } from "./helpers.ts";

const PAY_TO = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const PAID = { priceUsd: 0.002, payTo: PAY_TO, network: "eip155:84532" };
const HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };
let key: string;
let paid: string;
let free: string;
let fn: string;
const host = `mcp-${Date.now().toString(36)}.mcp.example`;

function rpc(path: string, method: string, params: unknown, init: { host?: string } = {}): Promise<Response> {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
  return call(path, { method: "POST", headers: HEADERS, body, ...init });
}

function tool(path: string, name: string, args: unknown, _meta?: unknown): Promise<Response> {
  return rpc(path, "tools/call", { name, arguments: args, ...(_meta !== undefined ? { _meta } : {}) });
}

async function result(res: Response): Promise<any> {
  expect(res.status).toBe(200);
  const body = (await res.json()) as any;
  if (!body.result) throw new Error(`no result: ${JSON.stringify(body)}`);
  return body.result;
}

beforeAll(async () => {
  key = (await createCreator("MCP Creator")).key;
  paid = uniqueSlug("mcp-paid");
  free = uniqueSlug("mcp-free");
  fn = uniqueSlug("mcp-fn");
  await deployOk(key, paid, CITIES_CSV, { config: { ...PAID, hosts: [host] } });
  await deployOk(key, free, CITIES_CSV);
  const form = new FormData();
  const code = "export default { fetch: async (req) => Response.json({ length: (await req.json()).text.length }) };";
  form.set("code", new File([code], "index.js", { type: "application/javascript" }));
  const resource = {
    type: "function",
    operations: [
      {
        method: "POST",
        path: "/",
        input: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
        output: { type: "object", properties: { length: { type: "integer" } }, required: ["length"] },
      },
    ],
  };
  form.set("config", JSON.stringify({ resource }));
  const res = await call(`/v1/tenants/${fn}/deployments`, { method: "POST", headers: auth(key), body: form });
  if (res.status !== 201) throw new Error(`deploy fn: ${res.status} ${await res.text()}`);
});

describe("MCP endpoints", () => {
  it("lists tools on /mcp, /t/<slug>/mcp and /mcp on the API's own host", async () => {
    const platform = await result(await rpc("/mcp", "tools/list", {}));
    expect(platform.tools.map((t: any) => t.name)).toEqual(["search_apis", "get_api", "call_api"]);
    const byPath = await result(await rpc(`/t/${paid}/mcp`, "tools/list", {}));
    const byHost = await result(await rpc("/mcp", "tools/list", {}, { host }));
    expect(byPath.tools.map((t: any) => t.name)).toEqual(["get_v1_records", "get_v1_records_id", "get_v1_schema"]);
    expect(byHost.tools).toEqual(byPath.tools);
    expect(byPath.tools[1].inputSchema.required).toEqual(["id"]);
  });

  it("a paid tool without payment answers PaymentRequired in structuredContent and content[0].text", async () => {
    const r = await result(await tool(`/t/${paid}/mcp`, "get_v1_records", { country: "FR" }));
    expect(r.isError).toBe(true);
    expect(JSON.parse(r.content[0].text)).toEqual(r.structuredContent);
    expect(r.structuredContent).toMatchObject({ x402Version: 2, code: "payment_required" });
    expect(r.structuredContent.accepts[0]).toMatchObject({ scheme: "exact", amount: "2000", payTo: PAY_TO });
    expect(r.structuredContent.resource.url).toBe(`http://localhost/t/${paid}/v1/records?country=FR`);
  });

  it("a free tool and a function tool with an output schema answer structured content", async () => {
    const r = await result(await tool(`/t/${free}/mcp`, "get_v1_records_id", { id: "3" }));
    expect(r.isError).toBeUndefined();
    expect(JSON.parse(r.content[0].text)).toMatchObject({ city: "Berlin" });
    const tools = await result(await rpc(`/t/${fn}/mcp`, "tools/list", {}));
    expect(tools.tools[0]).toMatchObject({ name: "post", outputSchema: { type: "object" } });
    expect(tools.tools[0].inputSchema.properties.body.required).toEqual(["text"]);
    const doc = (await (await call(`/t/${fn}/openapi.json`)).json()) as any;
    const post = doc.paths["/"].post;
    expect(tools.tools[0].inputSchema.properties.body).toEqual(post.requestBody.content["application/json"].schema);
    expect(tools.tools[0].outputSchema).toEqual(post.responses["200"].content["application/json"].schema);
    const f = await result(await tool(`/t/${fn}/mcp`, "post", { body: { text: "hello" } }));
    expect(f.structuredContent).toEqual({ length: 5 });
  });

  it("free tools are metered like free HTTP calls: one per-caller bucket across HTTP and MCP", async () => {
    const limited = uniqueSlug("mcp-rl");
    const rateLimit = { perCaller: { requests: 2, windowSeconds: 60 } };
    await deployOk(key, limited, CITIES_CSV, { config: { rateLimit } });
    const ip = { "cf-connecting-ip": "203.0.113.77" };
    expect((await call(`/t/${limited}/v1/schema`, { headers: ip })).status).toBe(200);
    const params = { name: "get_v1_schema", arguments: {} };
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params });
    const mcp = () => call(`/t/${limited}/mcp`, { method: "POST", headers: { ...HEADERS, ...ip }, body });
    expect((await result(await mcp())).isError).toBeUndefined();
    const third = await result(await mcp());
    expect(third).toMatchObject({ isError: true, structuredContent: { error: { code: "rate_limited", status: 429 } } });
    const otherIp = { ...HEADERS, "cf-connecting-ip": "203.0.113.78" };
    const other = await call(`/t/${limited}/mcp`, { method: "POST", headers: otherIp, body });
    expect((await result(other)).isError).toBeUndefined();
  });

  it("each tool call of a JSON-RPC batch is its own call with its own request id", async () => {
    const params = { name: "get_v1_records_id", arguments: { id: "1" } };
    const batch = [1, 2].map((id) => ({ jsonrpc: "2.0", id, method: "tools/call", params }));
    const res = await call(`/t/${free}/mcp`, { method: "POST", headers: HEADERS, body: JSON.stringify(batch) });
    expect(res.status).toBe(200);
    const answers = (await res.json()) as any[];
    expect(answers.map((a) => JSON.parse(a.result.content[0].text).city)).toEqual(["Paris", "Paris"]);
    const ids = answers.map((a) => a.result._meta["402claw/requestId"]);
    expect(ids[0]).toMatch(/^req_[0-9a-f]{32}$/);
    expect(new Set([...ids, res.headers.get("x-request-id")]).size).toBe(3);
  });

  it("a tenant error is a tool error with the gateway's code", async () => {
    const r = await result(await tool(`/t/${free}/mcp`, "get_v1_records_id", { id: "999" }));
    expect(r.isError).toBe(true);
    expect(r.structuredContent.error).toMatchObject({ code: "record_not_found", status: 404 });
  });

  it("bad input: unknown tool, bad arguments, malformed payment — stable codes, never a 5xx", async () => {
    const unknown = await rpc(`/t/${paid}/mcp`, "tools/call", { name: "nope", arguments: {} });
    expect(unknown.status).toBe(200);
    expect(((await unknown.json()) as any).error).toMatchObject({ code: -32602, data: { code: "unknown_tool" } });
    const bad = await result(await rpc(`/t/${paid}/mcp`, "tools/call", { name: "get_v1_records_id", arguments: {} }));
    expect(bad).toMatchObject({ isError: true, structuredContent: { error: { code: "invalid_arguments" } } });
    const meta = { "x402/payment": { x402Version: 2, accepted: { scheme: "exact" } } };
    const malformed = await result(await tool(`/t/${paid}/mcp`, "get_v1_schema", {}, meta));
    expect(malformed.structuredContent.error.code).toBe("invalid_payment_meta");
    const noSuchApi = await result(await tool("/mcp", "get_api", { slug: "no-such-api-x" }));
    expect(noSuchApi.structuredContent.error.code).toBe("api_not_found");
    const parse = await call("/mcp", { method: "POST", headers: HEADERS, body: "{not json" });
    expect(parse.status).toBe(400);
    expect(((await parse.json()) as any).error.code).toBe(-32700);
    const big = await call(`/t/${paid}/mcp`, { method: "POST", headers: HEADERS, body: "x".repeat(2 * 1024 * 1024) });
    expect(big.status).toBe(413);
    for (const method of ["GET", "DELETE", "PUT"]) {
      expect((await call("/mcp", { method, headers: HEADERS })).status).toBe(405);
    }
  });

  it("any tools/call params answer below 500 (property)", async () => {
    const params = fc.record(
      {
        name: fc.oneof(fc.constantFrom("get_v1_records", "get_v1_records_id"), fc.string()),
        arguments: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })),
        _meta: fc.option(fc.record({ "x402/payment": fc.jsonValue({ maxDepth: 3 }) }), { nil: undefined }),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(params, async (p) => {
        const res = await rpc(`/t/${free}/mcp`, "tools/call", p);
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 40 },
    );
  });

  it("the server card and llms.txt point at the MCP endpoints", async () => {
    const card = (await (await call("/.well-known/mcp/server-card.json")).json()) as any;
    expect(card.transport).toEqual({ type: "streamable-http", endpoint: "http://localhost/mcp" });
    expect(card.tools.map((t: any) => t.name)).toEqual(["search_apis", "get_api", "call_api"]);
    const llms = await (await call("/llms.txt")).text();
    expect(llms).toContain("http://localhost/mcp");
    expect(llms).toContain("/t/<slug>/mcp");
  });
});
