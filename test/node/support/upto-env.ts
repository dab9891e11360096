// Helpers for usage-priced (upto) calls through the real dispatcher on the local stack: a function
// tenant whose one operation is usage-priced and which reports the charge it is asked to (query
// `charge`, echoed into X-Claw-Charge; `none` sends no report), and the official @x402/evm upto
// client signing the dispatcher's real 402.
import { privateKeyToAccount } from "viem/accounts";
import { x402Client } from "@x402/core/client";
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import { UptoEvmScheme } from "@x402/evm/upto/client";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import type { PaidEnv } from "./paid-env.ts";

/** Reports `?charge=` as its charge (USD decimal); `none` reports nothing. */
export const CHARGING_FUNCTION = `export default { async fetch(req) {
  const charge = new URL(req.url).searchParams.get("charge");
  const headers = { "content-type": "application/json" };
  if (charge !== null && charge !== "none") headers["X-Claw-Charge"] = charge;
  return new Response(JSON.stringify({ generated: true, charge }), { headers });
} };
`;

let counter = 0;
/** A function tenant: `GET /v1/generate` usage-priced up to `ceilingUsd`, every other call `defaultUsd`. */
export async function deployCharging(
  env: PaidEnv,
  ceilingUsd: number,
  extra: Record<string, unknown> = {},
): Promise<{ slug: string; base: string }> {
  counter += 1;
  const slug = `upto-${process.pid}-${counter}`;
  const form = new FormData();
  form.set("code", new File([CHARGING_FUNCTION], "worker.js", { type: "application/javascript" }));
  const config = {
    priceUsd: 0.001,
    prices: { "GET /v1/generate": { upto: ceilingUsd } },
    payTo: env.stack.payments.accounts.payTo.address,
    network: env.stack.payments.network,
    asset: env.stack.payments.asset,
    resource: { type: "function" },
    ...extra,
  };
  form.set("config", JSON.stringify(config));
  const res = await fetch(`${env.stack.apiUrl}/v1/tenants/${slug}/deployments`, {
    method: "POST",
    headers: { authorization: `Bearer ${env.creatorKey}` },
    body: form,
  });
  if (res.status !== 201) throw new Error(`deploy: ${res.status} ${await res.text()}`);
  return { slug, base: `${env.stack.apiUrl}/t/${slug}` };
}

/** The official client with both EVM schemes, allowed the local token. */
export function uptoClient(env: PaidEnv): x402Client {
  const account = privateKeyToAccount(env.stack.payments.accounts.payer.privateKey);
  const client = new x402Client();
  client.register(env.stack.payments.network, new UptoEvmScheme(account));
  client.register(env.stack.payments.network, new ExactEvmScheme(account));
  client.setSpendControls({
    allowedAssets: [{ network: env.stack.payments.network, asset: env.stack.payments.asset.address }],
  });
  return client;
}

export function uptoFetch(env: PaidEnv): typeof fetch {
  return wrapFetchWithPayment(fetch, uptoClient(env));
}

/** One PAYMENT-SIGNATURE for `url`, signed by the official client from the dispatcher's real 402. */
export async function signedUptoHeader(env: PaidEnv, url: string): Promise<string> {
  const challenge = await fetch(url);
  if (challenge.status !== 402) throw new Error(`expected a 402 challenge, got ${challenge.status}`);
  const required = decodePaymentRequiredHeader(challenge.headers.get("payment-required")!);
  return encodePaymentSignatureHeader(await uptoClient(env).createPaymentPayload(required));
}
