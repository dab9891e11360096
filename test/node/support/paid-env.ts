// Shared setup for paid-call e2e tests: the real local stack (anvil + token + facilitator +
// wrangler dev dispatcher) in a temp state dir, a creator, and helpers to deploy paid tenants
// and pay with the official @x402/fetch client.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";
import { x402Client } from "@x402/core/client";
import { encodePaymentSignatureHeader, decodePaymentRequiredHeader } from "@x402/core/http";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import { startLocalStack, type LocalStack } from "../../../cli/dev/stack.ts";
import { freePort } from "../../../cli/local/ports.ts";

export const CSV = "id,city,country,population\n1,Paris,FR,2161000\n2,Lyon,FR,513275\n3,Berlin,DE,3645000\n";

export interface PaidEnv {
  stack: LocalStack;
  creatorKey: string;
  stop: () => Promise<void>;
}

export async function startPaidEnv(): Promise<PaidEnv> {
  const dir = mkdtempSync(join(tmpdir(), "claw-paid-"));
  // 60 s for anvil to boot: the machine running the tests is shared and often loaded.
  const payments = { anvil: { startTimeoutMs: 60_000 } };
  const stack = await startLocalStack({ port: await freePort(), persistTo: join(dir, "state"), payments });
  const res = await fetch(`${stack.apiUrl}/__platform/creators`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.secrets.OPERATOR_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "paid e2e" }),
  });
  if (res.status !== 201) throw new Error(`creator: ${res.status} ${await res.text()}`);
  const creatorKey = ((await res.json()) as any).apiKey.key as string;
  return {
    stack,
    creatorKey,
    stop: async () => {
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
export async function deployPaid(
  env: PaidEnv,
  config: Record<string, unknown> = {},
): Promise<{ slug: string; url: string; body: any }> {
  counter += 1;
  const slug = `paid-${process.pid}-${counter}`;
  const form = new FormData();
  form.set("file", new File([CSV], "cities.csv"));
  form.set(
    "config",
    JSON.stringify({
      priceUsd: 0.001,
      payTo: env.stack.payments.accounts.payTo.address,
      network: env.stack.payments.network,
      asset: env.stack.payments.asset,
      ...config,
    }),
  );
  const res = await fetch(`${env.stack.apiUrl}/v1/tenants/${slug}/deployments`, {
    method: "POST",
    headers: { authorization: `Bearer ${env.creatorKey}` },
    body: form,
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`deploy: ${res.status} ${JSON.stringify(body)}`);
  return { slug, url: `${env.stack.apiUrl}/t/${slug}/v1/records?country=FR`, body };
}

/** The official client, allowed to pay in the local token. */
export function payerClient(env: PaidEnv, privateKey?: Hex): x402Client {
  const client = new x402Client();
  client.register(
    env.stack.payments.network,
    new ExactEvmScheme(privateKeyToAccount(privateKey ?? env.stack.payments.accounts.payer.privateKey)),
  );
  client.setSpendControls({
    allowedAssets: [{ network: env.stack.payments.network, asset: env.stack.payments.asset.address }],
  });
  return client;
}

export function payingFetch(env: PaidEnv, privateKey?: Hex): typeof fetch {
  return wrapFetchWithPayment(fetch, payerClient(env, privateKey));
}

/** One signed PAYMENT-SIGNATURE header for `url`, made by the official client from the real 402. */
export async function signedPaymentHeader(env: PaidEnv, url: string, privateKey?: Hex): Promise<string> {
  const challenge = await fetch(url);
  if (challenge.status !== 402) throw new Error(`expected a 402 challenge, got ${challenge.status}`);
  const required = decodePaymentRequiredHeader(challenge.headers.get("payment-required")!);
  const payload = await payerClient(env, privateKey).createPaymentPayload(required);
  return encodePaymentSignatureHeader(payload);
}

export async function balance(env: PaidEnv, address: string): Promise<bigint> {
  return env.stack.payments.chain.balanceOf(address as Hex);
}

export async function earnings(env: PaidEnv, slug: string): Promise<any> {
  const res = await fetch(`${env.stack.apiUrl}/v1/tenants/${slug}/earnings`, {
    headers: { authorization: `Bearer ${env.creatorKey}` },
  });
  return res.json();
}

/** Polls until `predicate` holds (the ledger is filled by the meter's alarm, asynchronously). */
export async function eventually<T>(
  read: () => Promise<T>,
  predicate: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!predicate(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    value = await read();
  }
  return value;
}
