// Charged means delivered (issue 9 item 1, docs/ARCHITECTURE.md §4) on the real local stack: a
// paid call while the chain does not mine answers 503 settlement_pending, the tenant's response
// is kept with the pending record; once the chain mines, the meter reconciles on its own (alarm)
// and the payer's retry of the same payment gets the tenant's original body with the real
// transaction in PAYMENT-RESPONSE. The ledger row carries the hash; money moved exactly once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEventLogs, type Hex } from "viem";
import { decodePaymentResponseHeader } from "@x402/core/http";
import { balance, deployPaid, earnings, eventually, signedPaymentHeader, startPaidEnv } from "./support/paid-env.ts";
import type { PaidEnv } from "./support/paid-env.ts";

let env: PaidEnv;

beforeAll(async () => {
  env = await startPaidEnv();
}, 120_000);

afterAll(async () => {
  await rpc("evm_setAutomine", [true]).catch(() => undefined);
  await env?.stop();
});

async function rpc(method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(env.stack.payments.rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: unknown };
  if (body.error !== undefined) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

describe("a settlement whose outcome is not known yet", () => {
  it("503 settlement_pending while the chain stalls; once mined, the retry gets the body and tx", async () => {
    const { slug, url } = await deployPaid(env);
    const payer = env.stack.payments.accounts.payer.address;
    const payTo = env.stack.payments.accounts.payTo.address;
    const header = await signedPaymentHeader(env, url);
    const [payerBefore, payToBefore] = await Promise.all([balance(env, payer), balance(env, payTo)]);
    const pay = () => fetch(url, { headers: { "payment-signature": header } });

    await rpc("evm_setAutomine", [false]);
    const started = Date.now();
    const pending = await pay();
    const pendingBody = (await pending.json()) as any;
    // wrangler dev's proxy re-sends a GET whose connection to the worker dropped (then this is a
    // 409 in flight): its output says why.
    if (pending.status !== 503) console.log(env.stack.dispatcher.process.output().slice(-6000));
    expect(pending.status, `${JSON.stringify(pendingBody)} after ${Date.now() - started} ms`).toBe(503);
    expect(pendingBody.error.code).toBe("settlement_pending");
    expect(pendingBody.items).toBeUndefined();
    // While it is pending, a retry gets no content (409, retry later) and runs nothing.
    const early = await pay();
    expect(early.status).toBe(409);
    expect(((await early.json()) as any).error.code).toBe("payment_in_flight");
    expect(await balance(env, payer)).toBe(payerBefore);

    await rpc("evm_setAutomine", [true]);
    await rpc("evm_mine");
    // The meter's alarm reconciles on its own (2 s backoff); the client keeps retrying.
    let retry = await pay();
    for (let i = 0; retry.status === 409 && i < 60; i++) {
      await retry.body?.cancel();
      await new Promise((r) => setTimeout(r, 500));
      retry = await pay();
    }
    expect(retry.status).toBe(200);
    expect(retry.headers.get("x-payment-deduped")).toBe("true");
    const body = (await retry.json()) as any;
    expect(body.items.map((r: any) => r.city)).toEqual(["Paris", "Lyon"]);
    const settle = decodePaymentResponseHeader(retry.headers.get("payment-response")!);
    expect(settle).toMatchObject({ success: true, network: env.stack.payments.network });
    expect(settle.transaction).toMatch(/^0x[0-9a-f]{64}$/);

    // That transaction is the transfer of this payment, and it is the only one.
    const { publicClient } = env.stack.payments.chain;
    const receipt = await publicClient.getTransactionReceipt({ hash: settle.transaction as Hex });
    expect(receipt.status).toBe("success");
    const abi = env.stack.payments.chain.token.abi;
    const [transfer] = parseEventLogs({ abi, eventName: "Transfer", logs: receipt.logs }) as any[];
    expect(transfer.args.value).toBe(1000n);
    expect(await balance(env, payer)).toBe(payerBefore - 1000n);
    expect(await balance(env, payTo)).toBe(payToBefore + 1000n);
    const ledger = await eventually(
      () => earnings(env, slug),
      (e) => e.items?.length === 1,
    );
    expect(ledger.totals).toMatchObject({ payments: 1, amountAtomic: "1000" });
    expect(ledger.items[0].transaction).toBe(settle.transaction);

    // Replays keep answering the same content and transaction.
    const again = await pay();
    expect(again.status).toBe(200);
    expect(decodePaymentResponseHeader(again.headers.get("payment-response")!).transaction).toBe(settle.transaction);
    expect(((await again.json()) as any).items).toEqual(body.items);
    expect(await balance(env, payer)).toBe(payerBefore - 1000n);
  }, 150_000);
});
