// A small real market for the browser tests: the local stack (anvil + token + facilitator +
// `wrangler dev` of the dispatcher) in a temp dir, two creators with APIs in three directories,
// seven funded payers paying APIs of both creators with the official @x402/fetch client, one
// creator paying its own API from a registered wallet (self-dealt), and a tenant whose
// description is an XSS payload. Then the ledger and the leaderboard are waited for and rolled up.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";
import { x402Client } from "@x402/core/client";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import { startLocalStack, type LocalStack } from "../../../../cli/dev/stack.ts";
import { freePort } from "../../../../cli/local/ports.ts";

export const XSS = `<script>window.__xss=1</script><img src=x onerror="window.__xss=2">"onerror=alert(1)`;
const CSV =
  "id,city,country,population\n1,Paris,FR,2161000\n2,Lyon,FR,513275\n3,Berlin,DE,3645000\n4,Tokyo,JP,13960000\n";

export interface Creator {
  id: string;
  key: string;
}

export interface Market {
  stack: LocalStack;
  url: string;
  a: Creator;
  b: Creator;
  /** slug → the number of paid calls the fixture made to it (organic + self-dealt). */
  paidCalls: Record<string, number>;
  selfDealtWallet: Hex;
  operator: (path: string, init?: RequestInit) => Promise<Response>;
  stop: () => Promise<void>;
}

async function ok(res: Response, expected: number, what: string): Promise<any> {
  const body = await res.text();
  if (res.status !== expected) throw new Error(`${what}: ${res.status} ${body}`);
  return body ? JSON.parse(body) : null;
}

async function createCreator(stack: LocalStack, name: string): Promise<Creator> {
  const res = await fetch(`${stack.apiUrl}/__platform/creators`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.secrets.OPERATOR_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const body = await ok(res, 201, "create creator");
  return { id: body.creator?.id ?? body.id, key: body.apiKey.key };
}

async function deploy(
  stack: LocalStack,
  creator: Creator,
  slug: string,
  config: Record<string, unknown>,
): Promise<void> {
  const form = new FormData();
  form.set("file", new File([CSV], "cities.csv"));
  const payments = stack.payments;
  const paid = typeof config.priceUsd === "number" && config.priceUsd > 0;
  form.set("config", JSON.stringify(paid ? { network: payments.network, asset: payments.asset, ...config } : config));
  await ok(
    await fetch(`${stack.apiUrl}/v1/tenants/${slug}/deployments`, {
      method: "POST",
      headers: { authorization: `Bearer ${creator.key}` },
      body: form,
    }),
    201,
    `deploy ${slug}`,
  );
}

function payer(stack: LocalStack, key: Hex): typeof fetch {
  const client = new x402Client();
  client.register(stack.payments.network, new ExactEvmScheme(privateKeyToAccount(key)));
  client.setSpendControls({
    allowedAssets: [{ network: stack.payments.network, asset: stack.payments.asset.address }],
  });
  return wrapFetchWithPayment(fetch, client);
}

async function waitFor<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

export async function startMarket(): Promise<Market> {
  const dir = mkdtempSync(join(tmpdir(), "claw-web-"));
  const stack = await startLocalStack({ port: await freePort(), persistTo: join(dir, "state") });
  const operator = (path: string, init: RequestInit = {}) =>
    fetch(`${stack.apiUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${stack.secrets.OPERATOR_TOKEN}`, ...(init.headers ?? {}) },
    });
  const stop = async () => {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const a = await createCreator(stack, "Acme Data");
    const b = await createCreator(stack, "Beta Labs");
    const payToA = stack.payments.accounts.payTo.address;
    const payToB = privateKeyToAccount(generatePrivateKey()).address;
    await deploy(stack, a, "world-cities", {
      priceUsd: 0.001,
      payTo: payToA,
      directory: "geo",
      description: "Cities of the world with country and population. Filter, sort, search.",
      rateLimit: { perCaller: { requests: 600, windowSeconds: 60 } },
      usageLimit: { dailyRequests: 10_000 },
      spendLimit: { dailyUsd: 1, perPayerDailyUsd: 0.5 },
    });
    await deploy(stack, a, "xss-probe", { priceUsd: 0, directory: "general", description: XSS });
    await deploy(stack, b, "fx-rates", {
      priceUsd: 0.002,
      payTo: payToB,
      directory: "finance",
      description: "Daily reference exchange rates for 30 currencies.",
    });
    await deploy(stack, b, "weather-now", {
      priceUsd: 0.0005,
      payTo: payToB,
      directory: "weather",
      description: "Current conditions by city.",
    });

    const selfDealt = generatePrivateKey();
    const selfAddress = privateKeyToAccount(selfDealt).address;
    await ok(
      await fetch(`${stack.apiUrl}/v1/wallets`, {
        method: "POST",
        headers: { authorization: `Bearer ${a.key}`, "content-type": "application/json" },
        body: JSON.stringify({ address: selfAddress }),
      }),
      201,
      "register wallet",
    );

    const keys: Hex[] = [
      stack.payments.accounts.payer.privateKey,
      ...Array.from({ length: 6 }, () => generatePrivateKey()),
    ];
    for (const k of [...keys.slice(1), selfDealt])
      await stack.payments.chain.mint(privateKeyToAccount(k).address, 10_000_000n);

    const paidCalls: Record<string, number> = {};
    const call = async (f: typeof fetch, slug: string) => {
      const res = await f(`${stack.apiUrl}/t/${slug}/v1/records?limit=2`);
      await ok(res, 200, `paid call to ${slug}`);
      paidCalls[slug] = (paidCalls[slug] ?? 0) + 1;
    };
    // Varied habits: payer i calls world-cities 1 + i % 3 times and fx-rates 1 + i % 2 times; two pay weather-now.
    await Promise.all(
      keys.map(async (k, i) => {
        const f = payer(stack, k);
        for (let n = 0; n < 1 + (i % 3); n++) await call(f, "world-cities");
        for (let n = 0; n < 1 + (i % 2); n++) await call(f, "fx-rates");
        if (i < 2) await call(f, "weather-now");
      }),
    );
    const self = payer(stack, selfDealt);
    for (let n = 0; n < 3; n++) await call(self, "world-cities");
    await ok(await fetch(`${stack.apiUrl}/t/xss-probe/v1/records`), 200, "free call");

    const total = Object.values(paidCalls).reduce((s, n) => s + n, 0);
    // The meters' alarms deliver usage events to the leaderboard and settlements to the ledger.
    await waitFor(
      async () =>
        ((await (await operator("/__platform/events?limit=1000")).json()) as any).items.filter(
          (e: any) => e.lifecycle === "payment_settled",
        ).length,
      (n) => n >= total,
      "usage events",
    );
    for (const [slug, creator] of [
      ["world-cities", a],
      ["fx-rates", b],
      ["weather-now", b],
    ] as const) {
      await waitFor(
        async () =>
          (
            (await (
              await fetch(`${stack.apiUrl}/v1/tenants/${slug}/earnings`, {
                headers: { authorization: `Bearer ${creator.key}` },
              })
            ).json()) as any
          ).totals.payments,
        (n) => n >= paidCalls[slug]!,
        `${slug} ledger`,
      );
    }
    await ok(await operator("/__platform/rollup", { method: "POST" }), 200, "rollup");
    return { stack, url: stack.apiUrl, a, b, paidCalls, selfDealtWallet: selfAddress, operator, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
