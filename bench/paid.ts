// Paid-call latency: the same @x402/fetch client pays (a) the dispatcher's paid dataset call
// (verify, meter admit with exactly-once + spend caps, tenant isolate, settle, commit + ledger
// outbox) and (b) a reference seller built with @x402/hono's paymentMiddleware, both against the
// same local facilitator and chain. Sequential calls, interleaved, so both see the same chain.
import { privateKeyToAccount } from "viem/accounts";
import { x402Client } from "@x402/core/client";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import type { LocalStack } from "../cli/local/stack.ts";
import { startReferenceServer } from "../cli/stack/reference-server.ts";

export interface LatencySummary {
  label: string;
  n: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export async function benchPaidCalls(stack: LocalStack, dispatcherUrl: string, calls: number): Promise<{ dispatcher: LatencySummary; reference: LatencySummary }> {
  const { payments } = stack;
  const reference = await startReferenceServer({
    facilitatorUrl: payments.facilitatorUrl,
    asset: payments.asset,
    payTo: payments.accounts.payTo.address,
    network: payments.network,
    price: "0.001",
  });
  try {
    const client = new x402Client();
    client.register(payments.network, new ExactEvmScheme(privateKeyToAccount(payments.accounts.payer.privateKey)));
    client.setSpendControls({ allowedAssets: [{ network: payments.network, asset: payments.asset.address }] });
    const pay = wrapFetchWithPayment(fetch, client);
    const samples = { dispatcher: [] as number[], reference: [] as number[] };
    const failures = { dispatcher: 0, reference: 0 };
    const once = async (which: "dispatcher" | "reference", url: string) => {
      const t0 = performance.now();
      const res = await pay(url);
      await res.arrayBuffer();
      const ms = performance.now() - t0;
      if (res.status === 200 && res.headers.get("payment-response")) samples[which].push(ms);
      else failures[which] += 1;
    };
    // Warm both paths (isolates, /supported cache, JIT) before measuring.
    for (let i = 0; i < 5; i++) {
      await once("dispatcher", dispatcherUrl);
      await once("reference", reference.paidUrl);
    }
    samples.dispatcher.length = samples.reference.length = 0;
    failures.dispatcher = failures.reference = 0;
    for (let i = 0; i < calls; i++) {
      await once("dispatcher", dispatcherUrl);
      await once("reference", reference.paidUrl);
    }
    const summarize = (label: string, values: number[], failed: number): LatencySummary => {
      const sorted = [...values].sort((a, b) => a - b);
      return { label, n: values.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), failures: failed };
    };
    return {
      dispatcher: summarize("402claw dispatcher (paid dataset call)", samples.dispatcher, failures.dispatcher),
      reference: summarize("@x402/hono reference seller", samples.reference, failures.reference),
    };
  } finally {
    await reference.stop();
  }
}
