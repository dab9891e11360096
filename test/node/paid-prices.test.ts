// Prices per operation paid for real: the official @x402/fetch client pays each operation of one
// tenant on the local chain (anvil + facilitator + wrangler dev). Each call moves exactly its own
// operation's price, the free operation moves nothing, and the earnings add up the mixed prices.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePaymentResponseHeader } from "@x402/core/http";
import { balance, deployPaid, earnings, eventually, payingFetch, startPaidEnv } from "./support/paid-env.ts";
import type { PaidEnv } from "./support/paid-env.ts";

let env: PaidEnv;

beforeAll(async () => {
  env = await startPaidEnv();
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

describe("prices per operation on the local chain", () => {
  it("a tenant with three operations at three prices (one free) charges each exactly", async () => {
    const prices = { "GET /v1/records": 0.001, "GET /v1/records/{id}": 0.002, "GET /v1/schema": 0 };
    const { slug } = await deployPaid(env, { priceUsd: 0.005, prices });
    const base = `${env.stack.apiUrl}/t/${slug}`;
    const payer = env.stack.payments.accounts.payer.address;
    const payTo = env.stack.payments.accounts.payTo.address;
    const pay = payingFetch(env);
    const cases: [string, bigint][] = [
      [`${base}/v1/records?country=FR`, 1000n],
      [`${base}/v1/records/3`, 2000n],
      [`${base}/health`, 5000n],
      [`${base}/v1/schema`, 0n],
    ];
    for (const [url, price] of cases) {
      const [payerBefore, payToBefore] = await Promise.all([balance(env, payer), balance(env, payTo)]);
      const res = await pay(url);
      expect(res.status, url).toBe(200);
      await res.arrayBuffer();
      if (price === 0n) expect(res.headers.get("payment-response")).toBeNull();
      else expect(decodePaymentResponseHeader(res.headers.get("payment-response")!).success).toBe(true);
      expect(await balance(env, payTo), url).toBe(payToBefore + price);
      expect(await balance(env, payer), url).toBe(payerBefore - price);
    }
    const ledger = await eventually(
      () => earnings(env, slug),
      (e) => e.totals?.payments === 3,
    );
    expect(ledger.totals).toMatchObject({ payments: 3, amountAtomic: "8000" });
    expect(ledger.items.map((i: any) => i.amountAtomic).sort()).toEqual(["1000", "2000", "5000"]);
  });
});
