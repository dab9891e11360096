// Aggregated usage with real payments (docs/ARCHITECTURE.md §4, §14): a known mix of paid calls
// over HTTP (the official @x402/fetch client) and as MCP tool calls (the official MCP client),
// with their 402 challenges and a replayed payment, against wrangler dev with a real anvil chain
// and facilitator. The meter's stats (from the dispatcher's aggregated batches), the ledger (one
// row per payment) and the leaderboard (aggregated rows + one settlement event per payment)
// agree with what was sent, call by call. The free, error and transport mix without a chain is
// test/worker/usage-known-mix.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { PaymentRequired } from "@x402/core/types";
import { deployPaid, earnings, eventually, payerClient, payingFetch, startPaidEnv } from "./support/paid-env.ts";
import type { PaidEnv } from "./support/paid-env.ts";

let env: PaidEnv;

beforeAll(async () => {
  env = await startPaidEnv();
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

async function meterStats(slug: string): Promise<any> {
  const res = await fetch(`${env.stack.apiUrl}/v1/tenants/${slug}`, {
    headers: { authorization: `Bearer ${env.creatorKey}` },
  });
  return ((await res.json()) as any).stats;
}

async function boardMetrics(slug: string): Promise<any> {
  const operator = { authorization: `Bearer ${env.stack.secrets.OPERATOR_TOKEN}` };
  await fetch(`${env.stack.apiUrl}/__platform/rollup`, { method: "POST", headers: operator });
  const res = await fetch(`${env.stack.apiUrl}/v1/apis/${slug}`);
  return res.ok ? ((await res.json()) as any).api.windows.overall.metrics : null;
}

describe("a known mix of paid calls, HTTP and MCP", () => {
  it("totals in the meter, the ledger and the leaderboard equal what was sent", async () => {
    const { slug } = await deployPaid(env);
    const base = `${env.stack.apiUrl}/t/${slug}`;
    const pay = payingFetch(env);
    // HTTP: 3 paid calls of 2 distinct requests (each a 402 first, then the paid retry).
    for (const q of ["country=FR", "country=DE", "country=FR"]) {
      const res = await pay(`${base}/v1/records?${q}`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    // MCP: 1 challenge, then the paid retry; the same payment again is a replay (no new money).
    const client = new Client({ name: "usage-mix", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
    const args = { name: "get_v1_records", arguments: { country: "FR" } };
    const challenge = (await client.callTool(args)) as any;
    expect(challenge.isError).toBe(true);
    const payment = await payerClient(env).createPaymentPayload(challenge.structuredContent as PaymentRequired);
    const paid = (await client.callTool({ ...args, _meta: { "x402/payment": payment } })) as any;
    expect(paid.isError).toBeFalsy();
    const replay = await eventually(
      async () => (await client.callTool({ ...args, _meta: { "x402/payment": payment } })) as any,
      (r) => !r.isError,
    );
    expect(replay.isError).toBeFalsy();
    await client.close();

    // Meter: 4 settled calls are calls (challenges and replays are not), 3 over HTTP, 1 over MCP.
    const stats = await eventually(
      () => meterStats(slug),
      (s) => s?.windows.total.calls === 4,
    );
    expect(stats.windows.total).toMatchObject({ calls: 4, served: 4, errors: 0, refused: 0, uniqueCallers: 1 });
    expect(stats.transports.total).toEqual({ http: 3, mcp: 1 });
    expect(stats.windows.total.p50LatencyMs).not.toBeNull();
    // Ledger: one row per payment.
    const ledger = await eventually(
      () => earnings(env, slug),
      (e) => e.totals.payments === 4,
    );
    expect(ledger.totals).toMatchObject({ payments: 4, amountAtomic: "4000" });
    // Leaderboard: 4 settled (one event each), 4 challenges of 2 distinct requests (FR over HTTP
    // and MCP is one request: same caller address, method, path and query), 1 replay.
    const metrics = await eventually(
      () => boardMetrics(slug),
      (m) => m?.calls === 4 && m?.replays === 1 && m?.events === 9,
      30_000,
    );
    expect(metrics).toMatchObject({ calls: 4, events: 9, challenges: 2, replays: 1, payers: 1, revenueAtomic: "4000" });
  });
});
