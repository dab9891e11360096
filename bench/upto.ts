// Usage-priced (upto) paid-call latency next to a fixed-price (exact) one (issue 15): one function
// tenant with both kinds of operation, paid by the same @x402/fetch client (both @x402/evm
// schemes), sequential calls interleaved round-robin after a warm-up, in the same run. The upto
// call reports half its ceiling, so both settle a real transfer (a 0 charge would skip /settle).
import { privateKeyToAccount } from "viem/accounts";
import { x402Client } from "@x402/core/client";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { UptoEvmScheme } from "@x402/evm/upto/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import type { LocalStack } from "../cli/dev/stack.ts";
import { ascending, percentile } from "./stats.ts";

const SLUG = "bench-upto";
/** Reports $0.0005 of its $0.001 ceiling on every call (the exact operation ignores the report). */
const CODE = `export default { async fetch() {
  return new Response(JSON.stringify({ ok: true }), {
    headers: { "content-type": "application/json", "x-claw-charge": "0.0005" },
  });
} };
`;

async function deploy(stack: LocalStack, creatorKey: string): Promise<void> {
  const { payments } = stack;
  const form = new FormData();
  form.set("code", new File([CODE], "worker.js", { type: "application/javascript" }));
  const config = {
    priceUsd: 0.001,
    prices: { "GET /upto": { upto: 0.001 } },
    payTo: payments.accounts.payTo.address,
    network: payments.network,
    asset: payments.asset,
    resource: { type: "function" },
    rateLimit: { perCaller: { requests: 10_000_000, windowSeconds: 60 } },
  };
  form.set("config", JSON.stringify(config));
  const res = await fetch(`${stack.dispatcher.url}/v1/tenants/${SLUG}/deployments`, {
    method: "POST",
    headers: { authorization: `Bearer ${creatorKey}` },
    body: form,
  });
  if (res.status !== 201) throw new Error(`bench-upto deploy: ${res.status} ${await res.text()}`);
}

/** Markdown lines: p50/p99 of `calls` upto and `calls` exact paid calls, interleaved. */
export async function benchUpto(stack: LocalStack, creatorKey: string, calls: number): Promise<string[]> {
  await deploy(stack, creatorKey);
  const { payments } = stack;
  const account = privateKeyToAccount(payments.accounts.payer.privateKey);
  const client = new x402Client();
  client.register(payments.network, new ExactEvmScheme(account));
  client.register(payments.network, new UptoEvmScheme(account));
  client.setSpendControls({ allowedAssets: [{ network: payments.network, asset: payments.asset.address }] });
  const pay = wrapFetchWithPayment(fetch, client);
  const base = `${stack.dispatcher.url}/t/${SLUG}`;
  const targets = [
    { label: "exact (fixed $0.001)", url: `${base}/exact`, samples: [] as number[], failures: 0 },
    { label: "upto (≤ $0.001, charged $0.0005)", url: `${base}/upto`, samples: [] as number[], failures: 0 },
  ];
  const once = async (t: (typeof targets)[number], record: boolean) => {
    const t0 = performance.now();
    let ok = false;
    try {
      const res = await pay(t.url);
      await res.arrayBuffer();
      ok = res.status === 200 && res.headers.get("payment-response") !== null;
    } catch (err) {
      console.error(`${t.label}: ${(err as Error).message}`);
    }
    if (!record) return;
    if (ok) t.samples.push(performance.now() - t0);
    else t.failures += 1;
  };
  for (let i = 0; i < 5; i++) for (const t of targets) await once(t, false);
  for (let i = 0; i < calls; i++) for (const t of targets) await once(t, true);
  const rows = targets.map((t) => {
    const sorted = ascending(t.samples);
    const [p50, p99] = [percentile(sorted, 50), percentile(sorted, 99)];
    return { ...t, n: sorted.length, p50, p99 };
  });
  const [exact, upto] = rows as [(typeof rows)[number], (typeof rows)[number]];
  return [
    `## Paid call: upto vs exact (same run, same client, same function tenant)`,
    ``,
    `Command: \`npm run bench\` or \`BENCH_ONLY=upto npm run bench\` (${calls} sequential paid calls each with` +
      ` @x402/fetch + @x402/evm, round-robin, after 5 warm-up calls each)`,
    ``,
    `| operation | calls | p50 ms | p99 ms | failures |`,
    `| --- | ---: | ---: | ---: | ---: |`,
    ...rows.map((r) => `| ${r.label} | ${r.n} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.failures} |`),
    ``,
    `**Ratio upto / exact: p50 ${(upto.p50 / exact.p50).toFixed(2)}, p99 ${(upto.p99 / exact.p99).toFixed(2)}**`,
    ``,
  ];
}
