// x402 payments end to end on a real local chain: the official @x402/fetch client pays the
// dispatcher (wrangler dev) through a real facilitator; balances, the ledger and the invariants
// (exactly-once, spend caps, no charge for failures, bad input never 5xx) are checked for real.
// The dispatcher commits after responding (waitUntil), so a duplicate that races the commit may
// get 409 payment_in_flight before it gets the stored response. The meter's orphan check (what
// happens when that commit never lands) is asked of the real facilitator here too; the meter's
// side of it is covered in test/worker/meter-orphans.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEventLogs, type Hex } from "viem";
import { decodePaymentResponseHeader, decodePaymentSignatureHeader } from "@x402/core/http";
import { decideReconcile, toVerifyOutcome, type VerifyOutcome } from "../../objects/meter/reconcile-decision.ts";
import { facilitatorBody, parseVerification } from "../../src/x402/facilitator.ts";
import {
  balance,
  deployPaid,
  earnings,
  eventually,
  payingFetch,
  signedPaymentHeader,
  startPaidEnv,
  type PaidEnv,
} from "./support/paid-env.ts";

let env: PaidEnv;
let payer: string;
let payTo: string;

beforeAll(async () => {
  env = await startPaidEnv();
  payer = env.stack.payments.accounts.payer.address;
  payTo = env.stack.payments.accounts.payTo.address;
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

describe("paid calls", () => {
  it("challenges without a payment: 402, PAYMENT-REQUIRED, JSON body, no-store", async () => {
    const { url } = await deployPaid(env);
    const res = await fetch(url);
    expect(res.status).toBe(402);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const header = JSON.parse(Buffer.from(res.headers.get("payment-required")!, "base64").toString("utf8"));
    const body = (await res.json()) as any;
    expect(body).toMatchObject({
      x402Version: 2,
      code: "payment_required",
      resource: { url },
      accepts: header.accepts,
    });
    expect(header.accepts[0]).toMatchObject({
      scheme: "exact",
      network: env.stack.payments.network,
      amount: "1000",
      payTo,
      extra: { name: env.stack.payments.asset.name, version: env.stack.payments.asset.version },
    });
    expect(header.accepts[0].asset.toLowerCase()).toBe(env.stack.payments.asset.address.toLowerCase());
  });

  it("pays with @x402/fetch: 200 + PAYMENT-RESPONSE, balances move by exactly the price, the ledger row matches the Transfer", async () => {
    const { slug, url } = await deployPaid(env);
    const [payerBefore, payToBefore] = await Promise.all([balance(env, payer), balance(env, payTo)]);
    const res = await payingFetch(env)(url);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.items.map((r: any) => r.city)).toEqual(["Paris", "Lyon"]);
    // The commit is off the critical path: no `commit` phase before the response.
    expect(res.headers.get("server-timing")).toMatch(/^verify;dur=\d+, admit;dur=\d+, tenant;dur=\d+, settle;dur=\d+$/);
    const settle = decodePaymentResponseHeader(res.headers.get("payment-response")!);
    expect(settle).toMatchObject({ success: true, network: env.stack.payments.network });
    expect(settle.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect(JSON.stringify(settle)).not.toContain("errorMessage");
    expect(await balance(env, payer)).toBe(payerBefore - 1000n);
    expect(await balance(env, payTo)).toBe(payToBefore + 1000n);

    const receipt = await env.stack.payments.chain.publicClient.getTransactionReceipt({
      hash: settle.transaction as Hex,
    });
    const [transfer] = parseEventLogs({
      abi: env.stack.payments.chain.token.abi,
      eventName: "Transfer",
      logs: receipt.logs,
    }) as any[];
    const ledger = await eventually(
      () => earnings(env, slug),
      (e) => e.items?.length === 1,
    );
    expect(ledger.totals).toMatchObject({ payments: 1, amountAtomic: "1000", amountUsd: "$0.001" });
    expect(ledger.items[0]).toMatchObject({
      transaction: settle.transaction,
      amountAtomic: transfer.args.value.toString(),
    });
    expect(ledger.items[0].payer).toBe(transfer.args.from.toLowerCase());
    expect(ledger.items[0].payTo.toLowerCase()).toBe(transfer.args.to.toLowerCase());
  });

  it("the same payment sent 50 times at once settles once, runs the tenant once; the rest get the stored response or 409", async () => {
    const { slug, url } = await deployPaid(env);
    const header = await signedPaymentHeader(env, url);
    const payerBefore = await balance(env, payer);
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => fetch(url, { headers: { "payment-signature": header } })),
    );
    const statuses = responses.map((r) => r.status);
    const fresh = responses.filter((r) => r.status === 200 && r.headers.get("x-payment-deduped") !== "true");
    const deduped = responses.filter((r) => r.headers.get("x-payment-deduped") === "true");
    const inFlight = responses.filter((r) => r.status === 409);
    expect(fresh).toHaveLength(1);
    expect(deduped.length + inFlight.length).toBe(49);
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    const freshBody = await fresh[0]!.text();
    for (const r of deduped) expect(await r.text()).toBe(freshBody);
    for (const r of inFlight) expect(((await r.json()) as any).error.code).toBe("payment_in_flight");
    expect(await balance(env, payer)).toBe(payerBefore - 1000n);
    // A later retry of the same payment replays the stored response too (once the background
    // commit landed: until then it is 409 payment_in_flight, which clients retry).
    let again = await fetch(url, { headers: { "payment-signature": header } });
    for (let i = 0; again.status === 409 && i < 20; i++) {
      expect(((await again.json()) as any).error.code).toBe("payment_in_flight");
      await new Promise((r) => setTimeout(r, 100));
      again = await fetch(url, { headers: { "payment-signature": header } });
    }
    expect(again.status).toBe(200);
    expect(again.headers.get("x-payment-deduped")).toBe("true");
    expect(await again.text()).toBe(freshBody);
    const ledger = await eventually(
      () => earnings(env, slug),
      (e) => e.items?.length >= 1,
    );
    expect(ledger.totals.payments).toBe(1);
  });

  it("a $0.01 daily spend cap at $0.001 per call lets exactly 10 of 50 concurrent payments settle", async () => {
    const { slug, url } = await deployPaid(env, { spendLimit: { dailyUsd: 0.01 } });
    const headers = await Promise.all(Array.from({ length: 50 }, () => signedPaymentHeader(env, url)));
    const payerBefore = await balance(env, payer);
    const responses = await Promise.all(headers.map((h) => fetch(url, { headers: { "payment-signature": h } })));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(10);
    const refused = responses.filter((r) => r.status !== 200);
    expect(refused).toHaveLength(40);
    for (const r of refused) {
      expect(r.status).toBe(402);
      expect(((await r.json()) as any).code).toBe("spend_cap_exceeded");
    }
    expect(await balance(env, payer)).toBe(payerBefore - 10_000n);
    const ledger = await eventually(
      () => earnings(env, slug),
      (e) => e.totals?.payments === 10,
    );
    expect(ledger.totals).toMatchObject({ payments: 10, amountAtomic: "10000" });
  });

  it("a failed tenant call is not settled: no charge, no ledger row", async () => {
    const { slug } = await deployPaid(env);
    const missing = `${env.stack.apiUrl}/t/${slug}/v1/records/9999`;
    const payerBefore = await balance(env, payer);
    const res = await payingFetch(env)(missing);
    expect(res.status).toBe(404);
    expect(res.headers.get("payment-response")).toBeNull();
    expect(((await res.json()) as any).error.code).toBe("record_not_found");
    expect(await balance(env, payer)).toBe(payerBefore);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await earnings(env, slug)).totals.payments).toBe(0);
  });

  it("an invalid signature is refused by /verify: 402 payment_invalid, no content, no charge", async () => {
    const { url } = await deployPaid(env);
    const header = await signedPaymentHeader(env, url);
    const payload = JSON.parse(Buffer.from(header, "base64").toString("utf8"));
    const sig: string = payload.payload.signature;
    payload.payload.signature = sig.slice(0, 10) + (sig[10] === "a" ? "b" : "a") + sig.slice(11);
    const res = await fetch(url, {
      headers: { "payment-signature": Buffer.from(JSON.stringify(payload)).toString("base64") },
    });
    expect(res.status).toBe(402);
    const body = (await res.json()) as any;
    expect(body.code).toBe("payment_invalid");
    expect(body.items).toBeUndefined();
    expect(JSON.stringify(body)).not.toMatch(/invalidMessage|calldata|0x[0-9a-f]{200}/i);
  });
});

describe("the meter's orphan check, asked of the real facilitator", () => {
  // What the meter stores at admit (the decoded payload and the requirements) and what it would
  // decide from the facilitator's real /verify answer for an in-flight payment nobody committed.
  async function orphanDecision(header: string): Promise<{ verify: VerifyOutcome; action: string }> {
    const payload = decodePaymentSignatureHeader(header);
    const res = await fetch(`${env.stack.payments.facilitatorUrl}/verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(facilitatorBody(payload, payload.accepted)),
    });
    expect(res.status).toBe(200);
    const verify = toVerifyOutcome(parseVerification(await res.json()));
    const validBefore = Number((payload.payload as any).authorization.validBefore);
    return { verify, action: decideReconcile({ phase: "in_flight", now: Date.now(), validBefore, verify }).action };
  }

  it("a payment that settled (its commit could have been lost): the used nonce is seen → commit", async () => {
    const { url } = await deployPaid(env);
    const header = await signedPaymentHeader(env, url);
    const res = await fetch(url, { headers: { "payment-signature": header } });
    expect(res.status).toBe(200);
    const { verify, action } = await orphanDecision(header);
    expect(verify).toEqual({ ok: true, isValid: false, invalidReason: "invalid_exact_evm_nonce_already_used" });
    expect(action).toBe("commit");
  });

  it("a payment that was admitted but never settled: still valid → release (nothing was charged)", async () => {
    const { url } = await deployPaid(env);
    const header = await signedPaymentHeader(env, url);
    const payerBefore = await balance(env, payer);
    const { verify, action } = await orphanDecision(header);
    expect(verify).toEqual({ ok: true, isValid: true });
    expect(action).toBe("release");
    expect(await balance(env, payer)).toBe(payerBefore);
    // ... and the payer can still use it.
    expect((await fetch(url, { headers: { "payment-signature": header } })).status).toBe(200);
    expect(await balance(env, payer)).toBe(payerBefore - 1000n);
  });

  it("settled payments reach the leaderboard with their revenue; challenges are counted but never rank", async () => {
    const { slug, url } = await deployPaid(env);
    const pay = payingFetch(env);
    for (let i = 0; i < 3; i++) expect((await pay(url)).status).toBe(200);
    const overall = await eventually(
      async () => {
        await fetch(`${env.stack.apiUrl}/__platform/rollup`, {
          method: "POST",
          headers: { authorization: `Bearer ${env.stack.secrets.OPERATOR_TOKEN}` },
        });
        const res = await fetch(`${env.stack.apiUrl}/v1/apis/${slug}`);
        return res.status === 200 ? ((await res.json()) as any).api.windows.overall : null;
      },
      (w) => w?.metrics?.calls === 3,
    );
    expect(overall.metrics).toMatchObject({ calls: 3, revenueAtomic: "3000", revenueUsd: "$0.003", payers: 1 });
    // Three paid calls of one URL by one client: one challenged request (the funnel counts requests).
    expect(overall.metrics.challenges).toBe(1);
  });
});
