// Paid MCP tool call vs paid HTTP call (issue 11, docs/ARCHITECTURE.md §12): the same paid dataset
// API, called (a) as an MCP tool with the official client (Client + StreamableHTTPClientTransport
// against /t/<slug>/mcp), paid through the x402 tool-result binding (the payment-required tool
// result, signed by the @x402/evm exact client scheme, retried with _meta["x402/payment"]), and
// (b) over HTTP with @x402/fetch (402, then the paid retry). Both sides pay the same way: one
// unpaid request, one signature, one paid request. Sequential, interleaved call by call, so both
// see the same chain, facilitator and meter state.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { PaymentRequired } from "@x402/core/types";
import { wrapFetchWithPayment } from "@x402/fetch";
import type { LocalStack } from "../cli/dev/stack.ts";
import { payerClient } from "../cli/dev/traffic.ts";
import { percentile } from "./stats.ts";

export interface PaidSide {
  label: string;
  samples: number[];
  failures: number;
}

export interface McpBenchResult {
  mcp: PaidSide;
  http: PaidSide;
  calls: number;
  warmup: number;
}

type ToolResult = {
  isError?: boolean;
  structuredContent?: unknown;
  _meta?: Record<string, unknown>;
};

/** One paid tool call through the tool-result binding; throws unless it settled. */
async function paidToolCall(
  client: Client,
  signer: ReturnType<typeof payerClient>,
  call: { name: string; arguments: Record<string, unknown> },
): Promise<void> {
  const challenge = (await client.callTool(call)) as ToolResult;
  if (!challenge.isError) throw new Error("the paid tool answered without asking for payment");
  const payment = await signer.createPaymentPayload(challenge.structuredContent as PaymentRequired);
  const paid = (await client.callTool({ ...call, _meta: { "x402/payment": payment } })) as ToolResult;
  const settlement = paid._meta?.["x402/payment-response"] as { success?: boolean } | undefined;
  if (paid.isError || settlement?.success !== true)
    throw new Error(`paid tool call failed: ${JSON.stringify(paid.structuredContent ?? paid).slice(0, 300)}`);
}

async function timed(side: PaidSide, record: boolean, run: () => Promise<void>): Promise<void> {
  const t0 = performance.now();
  try {
    await run();
    if (record) side.samples.push(performance.now() - t0);
  } catch (err) {
    if (record) side.failures += 1;
    process.stderr.write(`${side.label}: ${(err as Error).message}\n`);
  }
}

/** `slug` is a deployed paid dataset API on the stack (price and token of the stack). */
export async function benchMcpCalls(
  stack: LocalStack,
  slug: string,
  opts: { calls: number; warmup?: number },
): Promise<McpBenchResult> {
  const signer = payerClient(stack, stack.payments.accounts.payer.privateKey);
  const pay = wrapFetchWithPayment(fetch, signer);
  const client = new Client({ name: "402claw-bench", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${stack.apiUrl}/t/${slug}/mcp`)));
  const tool = { name: "get_v1_records", arguments: { country: "JP", limit: 5 } };
  const url = `${stack.apiUrl}/t/${slug}/v1/records?country=JP&limit=5`;
  const mcp: PaidSide = { label: `MCP tool call (tools/call on /t/${slug}/mcp)`, samples: [], failures: 0 };
  const http: PaidSide = { label: `HTTP call (@x402/fetch, GET /t/${slug}/v1/records)`, samples: [], failures: 0 };
  const httpCall = async () => {
    const res = await pay(url);
    await res.arrayBuffer();
    if (res.status !== 200 || !res.headers.get("payment-response")) throw new Error(`HTTP ${res.status}`);
  };
  const warmup = opts.warmup ?? 5;
  try {
    for (let i = 0; i < warmup + opts.calls; i++) {
      const record = i >= warmup;
      // Alternate which side goes first, so neither always follows the other's settlement.
      const pair = [
        () => timed(mcp, record, () => paidToolCall(client, signer, tool)),
        () => timed(http, record, httpCall),
      ];
      if (i % 2 === 1) pair.reverse();
      for (const step of pair) await step();
    }
  } finally {
    await client.close();
  }
  return { mcp, http, calls: opts.calls, warmup };
}

function summary(side: PaidSide): { p50: number; p99: number } {
  const sorted = [...side.samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

export function mcpReport(r: McpBenchResult): string[] {
  const m = summary(r.mcp);
  const h = summary(r.http);
  const row = (s: PaidSide, x: { p50: number; p99: number }) =>
    `| ${s.label} | ${s.samples.length} | ${x.p50.toFixed(1)} | ${x.p99.toFixed(1)} | ${s.failures} |`;
  return [
    `## Paid MCP tool call vs paid HTTP call (issue 11)`,
    ``,
    `Command: \`npm run bench\` (or \`BENCH_ONLY=mcp\`): ${r.calls} sequential paid calls per side ` +
      `after ${r.warmup} warm-up calls each, interleaved call by call, one payer, the same paid dataset API, ` +
      `facilitator and anvil chain. Each call is one unpaid request, one exact-scheme signature and one paid ` +
      `request (MCP: the tool-result binding).`,
    ``,
    `| transport | calls | p50 ms | p99 ms | failures |`,
    `| --- | ---: | ---: | ---: | ---: |`,
    row(r.http, h),
    row(r.mcp, m),
    ``,
    `**Ratio MCP / HTTP: p50 ${(m.p50 / h.p50).toFixed(2)}, p99 ${(m.p99 / h.p99).toFixed(2)}**`,
    ``,
  ];
}
