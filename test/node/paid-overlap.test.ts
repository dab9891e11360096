// The overlapped paid phases (docs/ARCHITECTURE.md §3 "Overlapped phases") end to end, with the
// real chain and facilitator behind a gate that holds or changes its answers: while /verify is
// out the meter already holds the payment (a duplicate gets 409 payment_in_flight); a verify that
// then fails delivers nothing, charges nothing and gives back the lock and the limits it held; a
// verify naming another payer than the payload's `from` is admitted again under that payer; and a
// read-only tenant's answer, ready during verify, is never sent before the settlement.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePaymentResponseHeader } from "@x402/core/http";
import { balance, deployPaid, signedPaymentHeader, type PaidEnv } from "./support/paid-env.ts";
import { startGatedEnv, type Gate } from "./support/gated-env.ts";

let env: PaidEnv & { gate: Gate };
let payer: string;

beforeAll(async () => {
  env = await startGatedEnv();
  payer = env.stack.payments.accounts.payer.address;
}, 150_000);

afterAll(async () => {
  await env?.stop();
});

function resetGate(): void {
  env.gate.verify = null;
  env.gate.settle = null;
}

const pay = (url: string, header: string) => fetch(url, { headers: { "payment-signature": header } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("overlapped paid phases", () => {
  it("verify fails after the admit and tenant ran: 402, no content, no charge, lock and limit back", async () => {
    resetGate();
    // One call per hour in all: a failed verify that kept its token would leave none.
    const { url } = await deployPaid(env, { rateLimit: { global: { requests: 1, windowSeconds: 3600 } } });
    const header = await signedPaymentHeader(env, url);
    const before = await balance(env, payer);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let first = true;
    env.gate.verify = async (real) => {
      if (!first) return real();
      first = false;
      await held;
      return { isValid: false, invalidReason: "invalid_exact_evm_payload_signature" };
    };
    const rejected = pay(url, header);
    await sleep(300);
    // The first request's provisional admit holds the payment while its /verify is out.
    const duplicate = await pay(url, header);
    expect(duplicate.status).toBe(409);
    expect(((await duplicate.json()) as any).error.code).toBe("payment_in_flight");
    release();
    const res = await rejected;
    expect(res.status).toBe(402);
    const body = (await res.json()) as any;
    expect(body.code).toBe("payment_invalid");
    expect(body.items).toBeUndefined();
    expect(res.headers.get("payment-response")).toBeNull();
    expect(env.gate.calls.settle).toBe(0);
    expect(await balance(env, payer)).toBe(before);
    // Withdrawn: the same payment is admitted again, with the one token the failed call gave back.
    resetGate();
    const again = await pay(url, header);
    expect(again.status).toBe(200);
    expect(((await again.json()) as any).items.length).toBeGreaterThan(0);
    expect(await balance(env, payer)).toBe(before - 1000n);
    const next = await pay(url, await signedPaymentHeader(env, url));
    expect(next.status).toBe(429);
    expect(await balance(env, payer)).toBe(before - 1000n);
  });

  it("verify names another payer: the provisional admit is released and the call admitted as that payer", async () => {
    resetGate();
    const { url } = await deployPaid(env, { rateLimit: { global: { requests: 1, windowSeconds: 3600 } } });
    const other = "0x" + "d".repeat(40);
    env.gate.verify = async (real) => ({ ...(await real()), payer: other });
    const settlesBefore = env.gate.calls.settle;
    const res = await pay(url, await signedPaymentHeader(env, url));
    // Not released, the payment would be in flight (409); released without its token, 429.
    expect(res.status).toBe(200);
    const settlement = decodePaymentResponseHeader(res.headers.get("payment-response")!);
    expect(settlement.payer?.toLowerCase()).toBe(other);
    expect(env.gate.calls.settle).toBe(settlesBefore + 1);
  });

  it("a read-only tenant's answer, ready during verify, leaves only after /settle answered", async () => {
    resetGate();
    const { url } = await deployPaid(env);
    env.gate.verify = async (real) => {
      const answer = await real();
      await sleep(400);
      return answer;
    };
    env.gate.settle = async (real) => {
      const answer = await real();
      await sleep(400);
      return answer;
    };
    const answeredBefore = env.gate.settleAnsweredAt.length;
    const res = await pay(url, await signedPaymentHeader(env, url));
    const headersAt = Date.now();
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).items.length).toBeGreaterThan(0);
    expect(env.gate.settleAnsweredAt.length).toBe(answeredBefore + 1);
    expect(headersAt).toBeGreaterThanOrEqual(env.gate.settleAnsweredAt[answeredBefore]!);
    // The tenant ran while /verify was held: no tenant time is left after it.
    const timing = Object.fromEntries(
      (res.headers.get("server-timing") ?? "").split(", ").map((p) => {
        const [name, dur] = p.split(";dur=");
        return [name, Number(dur)];
      }),
    );
    expect(timing.verify).toBeGreaterThanOrEqual(400);
    expect(timing.tenant).toBeLessThan(timing.verify! / 4);
  });
});
