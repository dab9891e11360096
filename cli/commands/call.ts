// `claw call <url>`: an agent's call. Fetches the URL; on 402 it checks the price against
// --max-price, pays with the official @x402/fetch client and a local wallet key, and prints the
// status, the price paid, the transaction and the body.
import { defineCommand } from "citty";
import { consola } from "consola";
import { privateKeyToAccount } from "viem/accounts";
import { x402Client } from "@x402/core/client";
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from "@x402/core/http";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DEV_STATE_DIR } from "../local/paths.ts";

function walletKey(explicit: string | undefined): `0x${string}` | null {
  const key = explicit ?? process.env.CLAW_WALLET_KEY ?? devWalletKey();
  if (!key) return null;
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new Error("the wallet key must be a 0x-prefixed 32-byte hex private key");
  return key as `0x${string}`;
}

function devWalletKey(): string | undefined {
  const file = join(DEV_STATE_DIR, "dev.json");
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, "utf8")) as { payerKey?: string }).payerKey;
}

function fail(message: string, code = 1): never {
  consola.error(message);
  process.exit(code);
}

export const callCommand = defineCommand({
  meta: { name: "call", description: "Call an API, paying with x402 if it asks for payment" },
  args: {
    url: { type: "positional", required: true, description: "The API URL" },
    "max-price": { type: "string", description: "Most you will pay for this call, in USD (default 0.01)", default: "0.01" },
    key: { type: "string", description: "Wallet private key (default $CLAW_WALLET_KEY, or the dev payer from `claw dev`)" },
    json: { type: "boolean", description: "Print one JSON object", default: false },
  },
  async run({ args }) {
    const maxUsd = Number(args["max-price"]);
    if (!Number.isFinite(maxUsd) || maxUsd < 0) fail("--max-price must be a non-negative number of USD, e.g. 0.01");
    let url: URL;
    try {
      url = new URL(args.url);
    } catch {
      fail(`not a URL: ${args.url}`);
    }
    const probe = await fetch(url).catch((err: Error) => fail(`cannot reach ${url.origin}: ${err.message}`));
    let response = probe;
    let paid: { amount: string; asset: string; decimals: number | null } | null = null;
    if (probe.status === 402) {
      const header = probe.headers.get("payment-required");
      if (!header) fail("the API answered 402 without a PAYMENT-REQUIRED header");
      const required = decodePaymentRequiredHeader(header);
      const option = required.accepts[0];
      if (!option) fail("the API's 402 offers no way to pay");
      // USDC-style assets have 6 decimals; the price check uses the offered amount in those units.
      const priceUsd = Number(option.amount) / 1e6;
      if (priceUsd > maxUsd) fail(`this call costs $${priceUsd}, more than --max-price $${maxUsd}`, 2);
      const key = walletKey(args.key);
      if (!key) fail("no wallet key: pass --key or set CLAW_WALLET_KEY");
      const client = new x402Client();
      client.register(option.network, new ExactEvmScheme(privateKeyToAccount(key)));
      client.setSpendControls({ allowedAssets: [{ network: option.network, asset: option.asset }] });
      response = await wrapFetchWithPayment(fetch, client)(url);
      paid = { amount: option.amount, asset: option.asset, decimals: 6 };
    }
    const text = await response.text();
    const settlementHeader = response.headers.get("payment-response");
    const settlement = settlementHeader ? decodePaymentResponseHeader(settlementHeader) : null;
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: printed as text
    }
    const result = {
      status: response.status,
      paid: settlement?.success ? { amountAtomic: paid?.amount, usd: paid ? Number(paid.amount) / 1e6 : 0, asset: paid?.asset } : null,
      transaction: settlement?.transaction ?? null,
      deduped: response.headers.get("x-payment-deduped") === "true",
      requestId: response.headers.get("x-request-id"),
      body,
    };
    if (args.json) {
      process.stdout.write(JSON.stringify(result) + "\n");
    } else {
      consola.info(`HTTP ${result.status}${result.requestId ? ` (${result.requestId})` : ""}`);
      if (result.paid) consola.success(`paid $${result.paid.usd} — tx ${result.transaction}`);
      process.stdout.write((typeof body === "string" ? body : JSON.stringify(body, null, 2)) + "\n");
    }
    if (response.status >= 400) process.exit(1);
  },
});
