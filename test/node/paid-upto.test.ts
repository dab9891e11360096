// Usage-priced (`upto`) calls paid for real through the dispatcher (docs/ARCHITECTURE.md §3, §6):
// the official @x402/fetch + @x402/evm upto client pays a function tenant on the local chain
// (anvil + Permit2 + the x402 upto proxy + facilitator + wrangler dev). The function reports its
// charge in X-Claw-Charge; the chain moves exactly that (never above the ceiling), a charge of 0
// moves nothing (and its replay neither), spend caps reserve the ceiling and commit the actual.
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from "@x402/core/http";
import { balance, earnings, eventually, startPaidEnv, type PaidEnv } from "./support/paid-env.ts";
import { deployCharging, signedUptoHeader, uptoFetch } from "./support/upto-env.ts";
import { freePort } from "../../cli/local/ports.ts";

let env: PaidEnv;
let upstream: Server | undefined;
beforeAll(async () => {
  env = await startPaidEnv();
}, 120_000);
afterAll(async () => {
  upstream?.close();
  await env?.stop();
});

const CEILING_USD = 0.01; // 10000 atomic units at the local token's 6 decimals
const CEILING = 10_000n;

async function balances(): Promise<{ payer: bigint; payTo: bigint }> {
  const { payer, payTo } = env.stack.payments.accounts;
  const [a, b] = await Promise.all([balance(env, payer.address), balance(env, payTo.address)]);
  return { payer: a, payTo: b };
}

const ledgerOf = (slug: string, rows: number) =>
  eventually(
    () => earnings(env, slug),
    (e) => e.items?.length === rows,
  );

describe("upto payments through the dispatcher", () => {
  it("offers upto for the ceiling, and a report of 37 % moves exactly that on chain", async () => {
    const { slug, base } = await deployCharging(env, CEILING_USD);
    const challenge = await fetch(`${base}/v1/generate?charge=0.0037`);
    expect(challenge.status).toBe(402);
    const [offer] = decodePaymentRequiredHeader(challenge.headers.get("payment-required")!).accepts;
    expect(offer).toMatchObject({
      scheme: "upto",
      amount: CEILING.toString(),
      extra: { assetTransferMethod: "permit2", facilitatorAddress: env.stack.payments.accounts.facilitator.address },
    });

    const before = await balances();
    const res = await uptoFetch(env)(`${base}/v1/generate?charge=0.0037`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ generated: true, charge: "0.0037" });
    expect(res.headers.get("x-claw-charge")).toBeNull();
    const receipt = decodePaymentResponseHeader(res.headers.get("payment-response")!);
    expect(receipt).toMatchObject({ success: true, amount: "3700" });
    expect(receipt.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await balances()).toEqual({ payer: before.payer - 3700n, payTo: before.payTo + 3700n });

    const ledger = await ledgerOf(slug, 1);
    expect(ledger.items[0]).toMatchObject({ amountAtomic: "3700", maxAmountAtomic: "10000", chargeError: null });
    expect(ledger.totals).toMatchObject({ payments: 1, amountAtomic: "3700" });
  });

  it("caps a report above the ceiling at the ceiling and records the tenant error", async () => {
    const { slug, base } = await deployCharging(env, CEILING_USD);
    const before = await balances();
    const res = await uptoFetch(env)(`${base}/v1/generate?charge=0.5`);
    expect(res.status).toBe(200);
    expect(decodePaymentResponseHeader(res.headers.get("payment-response")!)).toMatchObject({
      success: true,
      amount: CEILING.toString(),
    });
    expect(await balances()).toEqual({ payer: before.payer - CEILING, payTo: before.payTo + CEILING });
    const ledger = await ledgerOf(slug, 1);
    expect(ledger.items[0]).toMatchObject({ amountAtomic: "10000", chargeError: "upto_charge_capped" });
  });

  it("a charge of 0 moves nothing; replaying its payment neither runs again for free nor moves anything", async () => {
    const { slug, base } = await deployCharging(env, CEILING_USD);
    const url = `${base}/v1/generate?charge=0`;
    const header = await signedUptoHeader(env, url);
    const before = await balances();
    const block = await env.stack.payments.chain.publicClient.getBlockNumber();
    const first = await fetch(url, { headers: { "payment-signature": header } });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ generated: true, charge: "0" });
    expect(decodePaymentResponseHeader(first.headers.get("payment-response")!)).toMatchObject({
      success: true,
      transaction: "",
      amount: "0",
    });
    const again = await fetch(url, { headers: { "payment-signature": header } });
    expect(again.status).toBe(200);
    expect(again.headers.get("x-payment-deduped")).toBe("true");
    expect(await again.json()).toEqual({ generated: true, charge: "0" });
    expect(await balances()).toEqual(before);
    expect(await env.stack.payments.chain.publicClient.getBlockNumber()).toBe(block);
    const ledger = await ledgerOf(slug, 1);
    expect(ledger.items[0]).toMatchObject({ amountAtomic: "0", maxAmountAtomic: "10000", transaction: null });
  });

  it("a missing report charges nothing and records the tenant error", async () => {
    const { slug, base } = await deployCharging(env, CEILING_USD);
    const before = await balances();
    const res = await uptoFetch(env)(`${base}/v1/generate?charge=none`);
    expect(res.status).toBe(200);
    expect(decodePaymentResponseHeader(res.headers.get("payment-response")!)).toMatchObject({ amount: "0" });
    expect(await balances()).toEqual(before);
    const ledger = await ledgerOf(slug, 1);
    expect(ledger.items[0]).toMatchObject({ amountAtomic: "0", chargeError: "upto_charge_missing" });
  });

  it("concurrent upto calls against a spend cap reserve the ceiling, commit the actual, never exceed it", async () => {
    // Cap 30000; each call reserves 10000 and settles 8000: in any interleaving exactly three fit.
    const { slug, base } = await deployCharging(env, CEILING_USD, { spendLimit: { dailyUsd: 0.03 } });
    const url = `${base}/v1/generate?charge=0.008`;
    const headers = await Promise.all(Array.from({ length: 6 }, () => signedUptoHeader(env, url)));
    const before = await balances();
    const answers = await Promise.all(headers.map((h) => fetch(url, { headers: { "payment-signature": h } })));
    const bodies = await Promise.all(answers.map((r) => r.json() as Promise<{ code?: string }>));
    const served = answers.filter((r) => r.status === 200).length;
    const refused = bodies.filter((b, i) => answers[i]!.status === 402 && b.code === "spend_cap_exceeded").length;
    expect({ served, refused }).toEqual({ served: 3, refused: 3 });
    const after = await balances();
    expect(after.payTo - before.payTo).toBe(24_000n);
    expect(before.payer - after.payer).toBe(24_000n);
    const ledger = await ledgerOf(slug, 3);
    expect(ledger.totals).toMatchObject({ payments: 3, amountAtomic: "24000" });
  });

  it("exact operations of the same tenant still charge their fixed price", async () => {
    const { base } = await deployCharging(env, CEILING_USD);
    const before = await balances();
    const res = await uptoFetch(env)(`${base}/v1/other?charge=0.5`);
    expect(res.status).toBe(200);
    const receipt = decodePaymentResponseHeader(res.headers.get("payment-response")!);
    expect(receipt.success).toBe(true);
    expect(receipt.amount).toBeUndefined();
    expect(res.headers.get("x-claw-charge")).toBeNull();
    expect(await balances()).toEqual({ payer: before.payer - 1000n, payTo: before.payTo + 1000n });
  });

  it("a settled upto payment presented again gets its stored response, and nothing moves twice", async () => {
    const { base } = await deployCharging(env, CEILING_USD);
    const url = `${base}/v1/generate?charge=0.002`;
    const header = await signedUptoHeader(env, url);
    const before = await balances();
    const first = await fetch(url, { headers: { "payment-signature": header } });
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    const again = await fetch(url, { headers: { "payment-signature": header } });
    expect(again.status).toBe(200);
    expect(again.headers.get("x-payment-deduped")).toBe("true");
    expect(decodePaymentResponseHeader(again.headers.get("payment-response")!)).toMatchObject({ amount: "2000" });
    expect(await balances()).toEqual({ payer: before.payer - 2000n, payTo: before.payTo + 2000n });
  });

  it("a proxy's JSON-path charge rule (tokens × unit price) settles exactly that", async () => {
    const port = await freePort();
    upstream = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "x-claw-charge": "0.01" });
      res.end(JSON.stringify({ text: "hello", usage: { total_tokens: 1234 } }));
    });
    await new Promise<void>((resolve) => upstream!.listen(port, "127.0.0.1", resolve));
    const slug = `upto-proxy-${process.pid}`;
    const form = new FormData();
    const charge = { jsonPath: "usage.total_tokens", unitUsd: 0.000002 };
    const resource = { type: "proxy", upstream: `http://127.0.0.1:${port}`, allowLoopback: true, charge };
    const { payTo } = env.stack.payments.accounts;
    const pay = { payTo: payTo.address, network: env.stack.payments.network, asset: env.stack.payments.asset };
    const prices = { "GET /v1/complete": { upto: CEILING_USD } };
    form.set("config", JSON.stringify({ priceUsd: 0.001, prices, ...pay, resource }));
    const deployed = await fetch(`${env.stack.apiUrl}/v1/tenants/${slug}/deployments`, {
      method: "POST",
      headers: { authorization: `Bearer ${env.creatorKey}` },
      body: form,
    });
    expect(deployed.status, await deployed.clone().text()).toBe(201);
    const before = await balances();
    const res = await uptoFetch(env)(`${env.stack.apiUrl}/t/${slug}/v1/complete`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ text: "hello", usage: { total_tokens: 1234 } });
    // The upstream's own X-Claw-Charge is not the charge: the rule is (1234 × $0.000002).
    expect(res.headers.get("x-claw-charge")).toBeNull();
    expect(decodePaymentResponseHeader(res.headers.get("payment-response")!)).toMatchObject({ amount: "2468" });
    expect(await balances()).toEqual({ payer: before.payer - 2468n, payTo: before.payTo + 2468n });
  });
});
