// Paid-call latency: the same @x402/fetch client pays (a) the dispatcher's paid dataset call
// (verify, meter admit with exactly-once + spend caps, tenant isolate, settle, commit + ledger
// outbox), (b) the official @x402/hono seller as a Worker under the same `wrangler dev`, and
// (c) that seller again, selling what (a) sells with the same x402 extensions (Bazaar listing,
// payment-identifier, signed offers and receipts: bench/reference-worker/index.ts), and (d) the
// bare seller as a plain Node server — all against one local facilitator and chain.
// Sequential calls, interleaved round-robin, so every target sees the same chain state.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { x402Client } from "@x402/core/client";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import type { LocalStack } from "../cli/dev/stack.ts";
import { deployDemo } from "../cli/dev/seed.ts";
import { startWranglerDev } from "../cli/local/dispatcher.ts";
import { REPO_ROOT } from "../cli/local/paths.ts";
import type { ServedRequest } from "../cli/stack/facilitator.ts";
import { startReferenceServer } from "../cli/stack/reference-server.ts";
import { ascending, percentile } from "./stats.ts";

export interface LatencySummary {
  label: string;
  n: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  /** p50 of the unpaid request answered 402, and of the paid request, to its response headers. */
  challengeP50Ms: number;
  paidP50Ms: number;
  clientP50Ms: number;
  /** p50 per Server-Timing phase of the paid request, when the server reports them. */
  phasesP50Ms: Record<string, number>;
  /** p50 per leg of the paid request as the facilitator saw it (FACILITATOR_LEGS). */
  facilitatorLegsP50Ms: Record<string, number>;
}

/**
 * The paid request cut at the facilitator's boundary, which every target shares, on one clock:
 * until /verify arrives, /verify, from its answer until /settle arrives, /settle, from its answer
 * until the response headers. Unlike Server-Timing this sees CPU work, which workerd's frozen
 * clock does not.
 */
export const FACILITATOR_LEGS = ["to verify", "verify", "verify to settle", "settle", "settle to headers"] as const;

/** `served`: what the facilitator answered during this one request. */
function facilitatorLegs(served: readonly ServedRequest[], startedAt: number, headersAt: number): number[] | null {
  const verify = served.find((s) => s.path === "/verify");
  const settle = served.find((s) => s.path === "/settle");
  if (!verify || !settle) return null;
  return [
    verify.arrivedAt - startedAt,
    verify.answeredAt - verify.arrivedAt,
    settle.arrivedAt - verify.answeredAt,
    settle.answeredAt - settle.arrivedAt,
    headersAt - settle.answeredAt,
  ];
}

interface Target {
  label: string;
  url: string;
  samples: number[];
  failures: number;
  challenges: number[];
  paid: number[];
  /** From the 402's headers to the paid request's start: the client reading the offer and signing. */
  client: number[];
  phases: Map<string, number[]>;
  legs: Map<string, number[]>;
  lastChallengeAt: number;
}

function push(m: Map<string, number[]>, key: string, value: number): void {
  const values = m.get(key);
  if (values) values.push(value);
  else m.set(key, [value]);
}

/**
 * A fetch that times each leg of a paid call (the 402, then the paid request) for `target`;
 * `served` is what the facilitator answered meanwhile (calls are sequential).
 */
function timedFetch(target: Target, record: () => boolean, served: readonly ServedRequest[]): typeof fetch {
  return async (input, init) => {
    const servedBefore = served.length;
    const t0 = performance.now();
    const res = await fetch(input, init);
    const ms = performance.now() - t0;
    if (!record()) return res;
    const legs = res.status === 402 ? null : facilitatorLegs(served.slice(servedBefore), t0, t0 + ms);
    for (const [i, leg] of (legs ?? []).entries()) push(target.legs, FACILITATOR_LEGS[i]!, leg);
    if (res.status === 402) {
      target.challenges.push(ms);
      target.lastChallengeAt = t0 + ms;
    } else {
      target.paid.push(ms);
      if (target.lastChallengeAt > 0) target.client.push(t0 - target.lastChallengeAt);
      target.lastChallengeAt = 0;
    }
    for (const part of (res.headers.get("server-timing") ?? "").split(",")) {
      const m = /^\s*([\w-]+);dur=([\d.]+)/.exec(part);
      if (m) push(target.phases, m[1]!, Number(m[2]));
    }
    return res;
  };
}

/**
 * `BENCH_PAID_DUMP=<file>`: every call's times per target as JSON, in call order (medians of the
 * legs do not add up to the median of the whole when tails differ; this is what shows where).
 */
function dumpSamples(file: string, targets: readonly Target[]): void {
  const raw = targets.map((t) => ({
    label: t.label,
    samples: t.samples,
    challenges: t.challenges,
    client: t.client,
    paid: t.paid,
    legs: Object.fromEntries(t.legs),
    phases: Object.fromEntries(t.phases),
  }));
  writeFileSync(file, JSON.stringify(raw));
}

/** The paid dataset API every paid bench calls ($0.001 in the local token), deployed on `stack`. */
export const PAID_SLUG = "bench-paid";
export const PAID_QUERY = "/v1/records?country=JP&limit=5";

export async function deployPaidDemo(stack: LocalStack, creatorKey: string): Promise<string> {
  const { payments } = stack;
  await deployDemo(stack.apiUrl, creatorKey, {
    slug: PAID_SLUG,
    file: "world-cities.csv",
    config: {
      priceUsd: 0.001,
      payTo: payments.accounts.payTo.address,
      network: payments.network,
      asset: payments.asset,
    },
  });
  return `${stack.apiUrl}/t/${PAID_SLUG}${PAID_QUERY}`;
}

/** The local payer's @x402/fetch over `fetchImpl`, allowed to pay in the local token. */
export function payingFetch(payments: LocalStack["payments"], fetchImpl: typeof fetch = fetch): typeof fetch {
  const client = new x402Client();
  client.register(payments.network, new ExactEvmScheme(privateKeyToAccount(payments.accounts.payer.privateKey)));
  client.setSpendControls({ allowedAssets: [{ network: payments.network, asset: payments.asset.address }] });
  return wrapFetchWithPayment(fetchImpl, client);
}

/**
 * What the like-for-like reference sells, read off the dispatcher's own answers to `url`: the
 * Bazaar listing its 402 carries and the content one paid call gets (base64 each, for vars).
 */
async function dispatcherOffer(
  payments: LocalStack["payments"],
  url: string,
): Promise<{ listing: string; body: string }> {
  const challenge = await fetch(url);
  await challenge.arrayBuffer();
  const header = challenge.headers.get("payment-required");
  if (challenge.status !== 402 || !header) throw new Error(`expected a 402 from ${url}, got ${challenge.status}`);
  const required = decodePaymentRequiredHeader(header);
  if (!required.extensions?.bazaar) throw new Error(`the 402 of ${url} carries no Bazaar listing`);
  const paid = await payingFetch(payments)(url);
  const body = Buffer.from(await paid.arrayBuffer());
  if (paid.status !== 200) throw new Error(`the paid call to ${url} answered ${paid.status}`);
  return {
    listing: Buffer.from(JSON.stringify(required.extensions.bazaar)).toString("base64"),
    body: body.toString("base64"),
  };
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
  const offer = await dispatcherOffer(payments, dispatcherUrl);
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
      LISTING_B64: offer.listing,
      BODY_B64: offer.body,
      RECEIPT_KEY: generatePrivateKey(),
    },
  });
  const served: ServedRequest[] = [];
  const stopListening = payments.facilitator.onServed((s) => served.push(s));
  try {
    const target = (label: string, url: string): Target => ({
      label,
      url,
      samples: [],
      failures: 0,
      challenges: [],
      paid: [],
      client: [],
      phases: new Map(),
      legs: new Map(),
      lastChallengeAt: 0,
    });
    const targets: Target[] = [
      target("402claw dispatcher, paid dataset call (wrangler dev)", dispatcherUrl),
      target("@x402/hono reference as a Worker (wrangler dev)", `${workerReference.url}/paid`),
      target("@x402/hono reference, same extensions and content (wrangler dev)", `${workerReference.url}/paid-same`),
      target("@x402/hono reference in Node", nodeReference.paidUrl),
    ];
    let recording = false;
    const pays = new Map(
      targets.map((t) => [
        t,
        payingFetch(
          payments,
          timedFetch(t, () => recording, served),
        ),
      ]),
    );
    const once = async (target: Target, record: boolean) => {
      recording = record;
      const t0 = performance.now();
      let ok = false;
      try {
        const res = await pays.get(target)!(target.url);
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
    if (process.env.BENCH_PAID_DUMP) dumpSamples(process.env.BENCH_PAID_DUMP, targets);
    return targets.map((t) => {
      const sorted = ascending(t.samples);
      const p50 = (values: number[]) => percentile(ascending(values), 50);
      return {
        label: t.label,
        n: sorted.length,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        failures: t.failures,
        challengeP50Ms: p50(t.challenges),
        paidP50Ms: p50(t.paid),
        clientP50Ms: p50(t.client),
        phasesP50Ms: Object.fromEntries([...t.phases].map(([name, values]) => [name, p50(values)])),
        facilitatorLegsP50Ms: Object.fromEntries([...t.legs].map(([name, values]) => [name, p50(values)])),
      };
    });
  } finally {
    stopListening();
    await Promise.all([nodeReference.stop(), workerReference.stop()]);
  }
}
