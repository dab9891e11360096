// x402 over MCP end to end (docs/ARCHITECTURE.md §12): the official MCP client (Client +
// StreamableHTTPClientTransport) against wrangler dev with a real anvil chain and facilitator.
// Paid tools answer the payment-required tool result, the @x402/evm exact client signs it, and
// the retry with _meta["x402/payment"] settles on chain exactly once, through the HTTP call path.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { PaymentRequired } from "@x402/core/types";
import { parseEventLogs } from "viem";
import { balance, deployPaid, payerClient, startPaidEnv, type PaidEnv } from "./support/paid-env.ts";

let env: PaidEnv;
let payer: string;

beforeAll(async () => {
  env = await startPaidEnv();
  payer = env.stack.payments.accounts.payer.address;
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

async function connect(path: string): Promise<Client> {
  const client = new Client({ name: "mcp-e2e", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${env.stack.apiUrl}${path}`)));
  return client;
}

async function signed(result: any): Promise<unknown> {
  expect(result.isError).toBe(true);
  const required = result.structuredContent as PaymentRequired;
  expect(JSON.parse(result.content[0].text)).toEqual(required);
  return payerClient(env).createPaymentPayload(required);
}

describe("MCP tools", () => {
  it("lists the platform tools and one tool per operation whose schemas equal the API's OpenAPI", async () => {
    const { slug } = await deployPaid(env);
    const platform = await connect("/mcp");
    expect((await platform.listTools()).tools.map((t) => t.name)).toEqual(["search_apis", "get_api", "call_api"]);
    const api = await connect(`/t/${slug}/mcp`);
    const { tools } = await api.listTools();
    expect(tools.map((t) => t.name)).toEqual(["get_v1_records", "get_v1_records_id", "get_v1_schema"]);
    expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
    const doc = (await (await fetch(`${env.stack.apiUrl}/t/${slug}/openapi.json`)).json()) as any;
    const byId = doc.components.parameters;
    for (const [path, tool] of [
      ["/v1/records/{id}", tools[1]!],
      ["/v1/records", tools[0]!],
    ] as const) {
      for (const p of doc.paths[path].get.parameters) {
        const param = p.$ref ? byId[p.$ref.split("/").pop()] : p;
        const { description, ...schema } = (tool.inputSchema.properties as any)[param.name];
        expect(schema).toEqual(param.schema);
        expect(description).toBe(param.description);
      }
    }
    await Promise.all([platform.close(), api.close()]);
  });

  it("a free tool answers; search_apis agrees with /v1/leaderboard", async () => {
    const { slug } = await deployPaid(env, { priceUsd: 0 });
    const api = await connect(`/t/${slug}/mcp`);
    const res = (await api.callTool({ name: "get_v1_records", arguments: { country: "FR" } })) as any;
    expect(res.isError).toBeFalsy();
    expect(JSON.parse(res.content[0].text).items.map((r: any) => r.city)).toEqual(["Paris", "Lyon"]);
    const operator = { authorization: `Bearer ${env.stack.secrets.OPERATOR_TOKEN}` };
    await fetch(`${env.stack.apiUrl}/__platform/rollup`, { method: "POST", headers: operator });
    const platform = await connect("/mcp");
    const search = (await platform.callTool({ name: "search_apis", arguments: {} })) as any;
    const board = (await (await fetch(`${env.stack.apiUrl}/v1/leaderboard`)).json()) as any;
    const expected = [...board.items, ...board.emerging].map((e: any) => [e.slug, e.score, e.price.usd]);
    expect(search.structuredContent.results.map((e: any) => [e.slug, e.score, e.price.usd])).toEqual(expected);
    expect(expected.length).toBeGreaterThan(0);
    await Promise.all([platform.close(), api.close()]);
  });

  it("a paid tool: payment required → sign → retry settles the price once; a replay moves nothing", async () => {
    const { slug } = await deployPaid(env);
    const api = await connect(`/t/${slug}/mcp`);
    const args = { name: "get_v1_records", arguments: { country: "FR" } };
    const payment = await signed(await api.callTool(args));
    const before = await balance(env, payer);
    const paid = (await api.callTool({ ...args, _meta: { "x402/payment": payment } })) as any;
    expect(paid.isError).toBeFalsy();
    expect(JSON.parse(paid.content[0].text).items).toHaveLength(2);
    const settlement = paid._meta["x402/payment-response"];
    expect(settlement).toMatchObject({ success: true, network: env.stack.payments.network });
    const receipt = await env.stack.payments.chain.publicClient.getTransactionReceipt({ hash: settlement.transaction });
    expect(receipt.status).toBe("success");
    const { abi } = env.stack.payments.chain.token;
    const transfers = parseEventLogs({ abi, eventName: "Transfer", logs: receipt.logs }) as any[];
    expect(transfers.map((t) => [t.args.from.toLowerCase(), t.args.value])).toEqual([[payer.toLowerCase(), 1000n]]);
    expect(await balance(env, payer)).toBe(before - 1000n);
    for (let i = 0; i < 20; i++) {
      const again = (await api.callTool({ ...args, _meta: { "x402/payment": payment } })) as any;
      if (again.isError && again.structuredContent?.error?.code === "payment_in_flight") {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      expect(again.isError).toBeFalsy();
      expect(again.content[0].text).toBe(paid.content[0].text);
      break;
    }
    expect(await balance(env, payer)).toBe(before - 1000n);
    await api.close();
  });

  it("a failing tool call is not charged; 20 concurrent copies of one payment settle once", async () => {
    const { slug } = await deployPaid(env);
    const platform = await connect("/mcp");
    const missingArgs = { slug, operation: "get_v1_records_id", arguments: { id: "9999" } };
    const missing = { name: "call_api", arguments: missingArgs };
    const failPayment = await signed(await platform.callTool(missing));
    const before = await balance(env, payer);
    const failed = (await platform.callTool({ ...missing, _meta: { "x402/payment": failPayment } })) as any;
    expect(failed.isError).toBe(true);
    expect(failed.structuredContent.error.code).toBe("record_not_found");
    expect(failed._meta?.["x402/payment-response"]).toBeUndefined();
    expect(await balance(env, payer)).toBe(before);

    const call = { name: "call_api", arguments: { slug, operation: "get_v1_records", arguments: {} } };
    const payment = await signed(await platform.callTool(call));
    const clients = await Promise.all(Array.from({ length: 20 }, () => connect("/mcp")));
    const paidCall = { ...call, _meta: { "x402/payment": payment } };
    const results = (await Promise.all(clients.map((c) => c.callTool(paidCall)))) as any[];
    const fresh = results.filter((r) => !r.isError && !r._meta?.["x402/deduped"]);
    expect(fresh).toHaveLength(1);
    for (const r of results.filter((r) => r.isError)) expect(r.structuredContent.error.code).toBe("payment_in_flight");
    expect(await balance(env, payer)).toBe(before - 1000n);
    await Promise.all([platform.close(), ...clients.map((c) => c.close())]);
  });
});
