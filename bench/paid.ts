// Paid-call latency: the same @x402/fetch client pays (a) the dispatcher's paid dataset call
// (verify, meter admit with exactly-once + spend caps, tenant isolate, settle, commit + ledger
// outbox), (b) the official @x402/hono seller as a Worker under the same `wrangler dev`, and
// (c) the same seller as a plain Node server — all against one local facilitator and chain.
// Sequential calls, interleaved round-robin, so every target sees the same chain state.
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { x402Client } from "@x402/core/client";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import type { LocalStack } from "../cli/dev/stack.ts";
import { startWranglerDev } from "../cli/local/dispatcher.ts";
import { REPO_ROOT } from "../cli/local/paths.ts";
import { startReferenceServer } from "../cli/stack/reference-server.ts";

export interface LatencySummary {
  label: string;
  n: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
}

interface Target {
  label: string;
  url: string;
  samples: number[];
  failures: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export async function benchPaidCalls(
  stack: LocalStack,
  dispatcherUrl: string,
  calls: number,
  stateDir: string,
): Promise<LatencySummary[]> {
  const { payments } = stack;
  const amount = "1000";
  const nodeReference = await startReferenceServer({
    facilitatorUrl: payments.facilitatorUrl,
    asset: payments.asset,
    payTo: payments.accounts.payTo.address,
    network: payments.network,
    price: "0.001",
  });
  const workerReference = await startWranglerDev({
    config: join(REPO_ROOT, "bench", "reference-worker", "wrangler.jsonc"),
    persistTo: join(stateDir, "reference"),
    vars: {
      FACILITATOR_URL: payments.facilitatorUrl,
      NETWORK: payments.network,
      ASSET_ADDRESS: payments.asset.address,
      ASSET_NAME: payments.asset.name,
      ASSET_VERSION: payments.asset.version,
      AMOUNT: amount,
      PAY_TO: payments.accounts.payTo.address,
    },
  });
  try {
    const client = new x402Client();
    client.register(payments.network, new ExactEvmScheme(privateKeyToAccount(payments.accounts.payer.privateKey)));
    client.setSpendControls({ allowedAssets: [{ network: payments.network, asset: payments.asset.address }] });
    const pay = wrapFetchWithPayment(fetch, client);
    const targets: Target[] = [
      { label: "402claw dispatcher, paid dataset call (wrangler dev)", url: dispatcherUrl, samples: [], failures: 0 },
      {
        label: "@x402/hono reference as a Worker (wrangler dev)",
        url: `${workerReference.url}/paid`,
        samples: [],
        failures: 0,
      },
      { label: "@x402/hono reference in Node", url: nodeReference.paidUrl, samples: [], failures: 0 },
    ];
    const once = async (target: Target, record: boolean) => {
      const t0 = performance.now();
      let ok = false;
      try {
        const res = await pay(target.url);
        await res.arrayBuffer();
        ok = res.status === 200 && res.headers.get("payment-response") !== null;
        if (!ok) console.error(`${target.label}: HTTP ${res.status}`);
      } catch (err) {
        console.error(`${target.label}: ${(err as Error).message} ${String((err as { cause?: unknown }).cause ?? "")}`);
      }
      const ms = performance.now() - t0;
      if (!record) return;
      if (ok) target.samples.push(ms);
      else target.failures += 1;
    };
    // Warm every path (isolates, caches, JIT) before measuring.
    for (let i = 0; i < 5; i++) for (const t of targets) await once(t, false);
    for (let i = 0; i < calls; i++) for (const t of targets) await once(t, true);
    return targets.map((t) => {
      const sorted = [...t.samples].sort((a, b) => a - b);
      return {
        label: t.label,
        n: sorted.length,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        failures: t.failures,
      };
    });
  } finally {
    await Promise.all([nodeReference.stop(), workerReference.stop()]);
  }
}
