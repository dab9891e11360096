// A small real market for the browser tests: the local stack (anvil + token + facilitator +
// `wrangler dev` of the dispatcher) in a temp dir, two creators with APIs in three directories,
// seven funded payers paying APIs of both creators with the official @x402/fetch client, one
// creator paying its own API from a registered wallet (self-dealt), and a tenant whose
// description is an XSS payload. Then the ledger and the leaderboard are waited for and rolled up.
// The paying and waiting are cli/dev/traffic.ts, shared with `npm start`'s demo market.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";
import { startLocalStack, type LocalStack } from "../../../../cli/dev/stack.ts";
import {
  createCreator,
  expectStatus as ok,
  forceRollup,
  operatorFetch,
  payingFetch,
  registerWallet,
  waitFor,
  waitForSettledEvents,
  type Creator,
} from "../../../../cli/dev/traffic.ts";
import { freePort } from "../../../../cli/local/ports.ts";

export const XSS = `<script>window.__xss=1</script><img src=x onerror="window.__xss=2">"onerror=alert(1)`;
const CSV =
  "id,city,country,population\n1,Paris,FR,2161000\n2,Lyon,FR,513275\n3,Berlin,DE,3645000\n4,Tokyo,JP,13960000\n";

export type { Creator };

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

export async function startMarket(): Promise<Market> {
  const dir = mkdtempSync(join(tmpdir(), "claw-web-"));
  const stack = await startLocalStack({ port: await freePort(), persistTo: join(dir, "state") });
  const operator = operatorFetch(stack);
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
    await registerWallet(stack, a, selfAddress);

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
        const f = payingFetch(stack, k);
        for (let n = 0; n < 1 + (i % 3); n++) await call(f, "world-cities");
        for (let n = 0; n < 1 + (i % 2); n++) await call(f, "fx-rates");
        if (i < 2) await call(f, "weather-now");
      }),
    );
    const self = payingFetch(stack, selfDealt);
    for (let n = 0; n < 3; n++) await call(self, "world-cities");
    await ok(await fetch(`${stack.apiUrl}/t/xss-probe/v1/records`), 200, "free call");

    // The meters' alarms deliver usage events to the leaderboard and settlements to the ledger.
    await waitForSettledEvents(stack, paidCalls);
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
    await forceRollup(stack);
    return { stack, url: stack.apiUrl, a, b, paidCalls, selfDealtWallet: selfAddress, operator, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
