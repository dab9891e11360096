// The pure parts of x402 over MCP (docs/ARCHITECTURE.md §12): tool names and schemas from a
// description, tool arguments back to the operation's request, the HTTP answer → tool result
// mapping (402 → PaymentRequired, settlement → _meta, errors → isError), the `_meta` payment
// parser (property-tested: any input is "none", "malformed" or a header that decodes back), and
// the endpoint's rate-limit window.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  decodePaymentSignatureHeader,
  encodePaymentRequiredHeader,
  encodePaymentResponseHeader,
} from "@x402/core/http";
import type { Operation } from "../../src/discovery/description-types.ts";
import { inputSchemaOf, outputSchemaOf, requestOfTool, toolName } from "../../src/mcp/tools.ts";
import { toolResultOf } from "../../src/mcp/result.ts";
import { paymentOfMeta } from "../../src/mcp/payment-meta.ts";
import { admitMcpRequest } from "../../src/mcp/rate-limit.ts";
import { mcpConfig } from "../../src/web/api/snippets.ts";

const OP: Operation = {
  method: "GET",
  path: "/v1/records/{id}",
  summary: "One record",
  parameters: [
    { name: "id", in: "path", required: true, description: "path parameter id", schema: { type: "string" } },
    { name: "fields", in: "query", required: false, description: "projection", schema: { type: "array" } },
  ],
  output: { schema: { type: "object", properties: { city: { type: "string" } } } },
  inputExample: {},
  pathExample: { id: "1" },
  declared: true,
};

const REQUIRED = {
  x402Version: 2 as const,
  error: "payment required",
  resource: { url: "http://x/t/a/v1/records", description: "d", mimeType: "application/json" },
  accepts: [
    {
      scheme: "exact",
      network: "eip155:84532" as const,
      amount: "1000",
      asset: "0xA",
      payTo: "0xB",
      maxTimeoutSeconds: 60,
      extra: {},
    },
  ],
};

const PAYLOAD = { x402Version: 2, accepted: REQUIRED.accepts[0], payload: { signature: "0x1", authorization: {} } };

describe("tools of an operation", () => {
  it("names, input and output schemas", () => {
    expect(toolName(OP)).toBe("get_v1_records_id");
    expect(toolName({ method: "POST", path: "/" })).toBe("post");
    expect(inputSchemaOf(OP)).toEqual({
      type: "object",
      properties: {
        id: { type: "string", description: "path parameter id" },
        fields: { type: "array", description: "projection" },
      },
      required: ["id"],
    });
    expect(inputSchemaOf({ ...OP, method: "POST", parameters: [], body: { schema: { type: "object" } } })).toEqual({
      type: "object",
      properties: { body: { type: "object" } },
      required: ["body"],
    });
    expect(outputSchemaOf(OP)).toEqual(OP.output.schema);
    expect(outputSchemaOf({ ...OP, output: { schema: { type: "array" } } })).toBeUndefined();
    expect(outputSchemaOf({ ...OP, output: { schema: {} } })).toBeUndefined();
  });

  it("arguments back to the request: path escaped, query encoded, body as JSON", () => {
    expect(requestOfTool(OP, { id: "a/b c", fields: ["city", "id"] })).toEqual({
      method: "GET",
      path: "/v1/records/a%2Fb%20c?fields=%5B%22city%22%2C%22id%22%5D",
    });
    expect(requestOfTool(OP, { id: 7 })).toEqual({ method: "GET", path: "/v1/records/7" });
    const post = { ...OP, method: "POST" as const, path: "/", parameters: [], body: { schema: {} } };
    expect(requestOfTool(post, { body: { text: "hi" } })).toEqual({ method: "POST", path: "/", body: '{"text":"hi"}' });
  });
});

describe("HTTP answer → tool result", () => {
  it("402: the PaymentRequired object (PAYMENT-REQUIRED) with our code, in structuredContent and text", async () => {
    for (const code of ["payment_required", "settlement_failed"]) {
      const res = new Response(JSON.stringify({ ...REQUIRED, code, items: ["tool output must not leak"] }), {
        status: 402,
        headers: { "payment-required": encodePaymentRequiredHeader(REQUIRED) },
      });
      const r = await toolResultOf(res, true);
      const text = JSON.stringify({ ...REQUIRED, code });
      expect(r).toEqual({ isError: true, structuredContent: { ...REQUIRED, code }, content: [{ type: "text", text }] });
    }
  });

  it("2xx: content, structuredContent only with an output schema, settlement in _meta", async () => {
    const settle = { success: true, transaction: "0xabc", network: "eip155:84532" as const, payer: "0xP" };
    const headers = { "payment-response": encodePaymentResponseHeader(settle), "x-payment-deduped": "true" };
    const r = await toolResultOf(new Response('{"city":"Paris"}', { headers }), true);
    expect(r).toEqual({
      content: [{ type: "text", text: '{"city":"Paris"}' }],
      structuredContent: { city: "Paris" },
      _meta: { "x402/payment-response": settle, "x402/deduped": true },
    });
    expect(await toolResultOf(new Response("[1,2]"), true)).toEqual({ content: [{ type: "text", text: "[1,2]" }] });
    expect((await toolResultOf(new Response('{"a":1}'), false)).structuredContent).toBeUndefined();
  });

  it("other statuses: isError with the gateway's code and status, never a settlement", async () => {
    const envelope = { error: { code: "record_not_found", message: "no record" }, requestId: "r" };
    const r = await toolResultOf(new Response(JSON.stringify(envelope), { status: 404 }), true);
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toEqual({ error: { code: "record_not_found", message: "no record", status: 404 } });
    expect(r._meta).toBeUndefined();
    const plain = await toolResultOf(new Response("boom", { status: 502 }), true);
    expect(plain.structuredContent).toEqual({ error: { code: "tool_failed", message: "boom", status: 502 } });
  });
});

describe("_meta payment", () => {
  it("none, a header that decodes to the same payload, or malformed", () => {
    expect(paymentOfMeta(undefined)).toEqual({ kind: "none" });
    expect(paymentOfMeta({ other: 1 })).toEqual({ kind: "none" });
    const ok = paymentOfMeta({ "x402/payment": PAYLOAD });
    expect(ok.kind).toBe("header");
    if (ok.kind === "header") expect(decodePaymentSignatureHeader(ok.header)).toEqual(PAYLOAD);
    const bad = paymentOfMeta({ "x402/payment": { ...PAYLOAD, accepted: { ...PAYLOAD.accepted, amount: "-1" } } });
    expect(bad).toMatchObject({ kind: "malformed", message: expect.stringContaining("accepted.amount") });
    expect(paymentOfMeta({ "x402/payment": "eyJ4NDAy" }).kind).toBe("malformed");
  });

  it("any outside input is classified without throwing (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.anything(), (a, b) => {
        for (const meta of [a, b, { "x402/payment": a }, { "x402/payment": { ...PAYLOAD, payload: b } }]) {
          const r = paymentOfMeta(meta);
          expect(["none", "header", "malformed"]).toContain(r.kind);
          if (r.kind === "header") expect(decodePaymentSignatureHeader(r.header).x402Version).toBeTypeOf("number");
        }
      }),
    );
  });
});

describe("MCP rate limit", () => {
  it("admits `limit` requests per caller per minute, then says when the window resets", () => {
    const t0 = 28_333_334 * 60_000 + 40_000; // 40 s into a minute
    for (let i = 0; i < 3; i++) expect(admitMcpRequest("ip:rl-a", t0, 3)).toBeNull();
    expect(admitMcpRequest("ip:rl-a", t0, 3)).toBe(20);
    expect(admitMcpRequest("ip:rl-b", t0, 3)).toBeNull();
    expect(admitMcpRequest("ip:rl-a", t0 + 20_000, 3)).toBeNull();
  });
});

describe("the API page's MCP snippet", () => {
  it("is a client config for the API's own /mcp server, with the price note when paid", () => {
    const price = { atomic: "1000", usd: "$0.001", decimals: 6 };
    const code = mcpConfig({ path: "/t/cities/", paid: true, price }, "https://402claw.dev");
    expect(code.split("\n")[0]).toContain("$0.001 per call");
    expect(JSON.parse(code.split("\n").slice(1).join("\n"))).toEqual({
      mcpServers: { cities: { type: "http", url: "https://402claw.dev/t/cities/mcp" } },
    });
    const free = JSON.parse(mcpConfig({ path: "/t/free/", paid: false, price }, "http://x"));
    expect(free.mcpServers.free.url).toBe("http://x/t/free/mcp");
  });
});
