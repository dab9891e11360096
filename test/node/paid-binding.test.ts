// A payment pays for one request (issue 9 item 8, docs/ARCHITECTURE.md §4, §9.2) and client
// idempotency keys are bound to one payment (issue 10 item 5), on the real local stack with real
// payments: a settled payment replayed for another path or query gets 409
// payment_request_mismatch (never the first request's content), an Idempotency-Key or an x402
// payment-identifier reused with another payment gets 409 idempotency_key_conflict, and money
// moves once per accepted payment. The payment-identifier is set with @x402/extensions' own client
// helper on the 402's declaration.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import {
  appendPaymentIdentifierToExtensions,
  generatePaymentId,
  isPaymentIdentifierExtension,
  PAYMENT_IDENTIFIER,
} from "@x402/extensions/payment-identifier";
import { validateDiscoveryExtension } from "@x402/extensions/bazaar";
import { balance, deployPaid, payerClient, signedPaymentHeader, startPaidEnv } from "./support/paid-env.ts";
import type { PaidEnv } from "./support/paid-env.ts";

let env: PaidEnv;
let payer: string;

beforeAll(async () => {
  env = await startPaidEnv();
  payer = env.stack.payments.accounts.payer.address;
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

async function challengeFor(url: string): Promise<PaymentRequired> {
  const res = await fetch(url);
  expect(res.status).toBe(402);
  return decodePaymentRequiredHeader(res.headers.get("payment-required")!);
}

/** A payment made from the real 402 with the payment-identifier helper setting `id`. */
async function paymentWithId(url: string, id: string): Promise<string> {
  const required = await challengeFor(url);
  appendPaymentIdentifierToExtensions(required.extensions!, id);
  return encodePaymentSignatureHeader(await payerClient(env).createPaymentPayload(required));
}

/** `fetch` with the payment, retried while the first answer's commit is still landing (409 in flight). */
async function pay(url: string, header: string, extra: Record<string, string> = {}): Promise<Response> {
  let res = await fetch(url, { headers: { "payment-signature": header, ...extra } });
  for (let i = 0; res.status === 409 && i < 30; i++) {
    const body = (await res.clone().json()) as any;
    if (body.error.code !== "payment_in_flight") break;
    await res.body?.cancel();
    await new Promise((r) => setTimeout(r, 100));
    res = await fetch(url, { headers: { "payment-signature": header, ...extra } });
  }
  return res;
}

async function codeOf(res: Response): Promise<string> {
  const body = (await res.json()) as any;
  expect(typeof body.requestId).toBe("string");
  return body.error?.code ?? body.code;
}

describe("a payment is bound to the request it paid for", () => {
  it("a settled payment replayed on another path or query gets 409 payment_request_mismatch", async () => {
    const { url } = await deployPaid(env);
    const base = url.slice(0, url.indexOf("/v1/"));
    const header = await signedPaymentHeader(env, url);
    const before = await balance(env, payer);
    const first = await pay(url, header);
    expect(first.status).toBe(200);
    const content = await first.text();
    for (const other of [`${base}/v1/records?country=DE`, `${base}/v1/schema`, `${base}/v1/records?country=FR&x=1`]) {
      const res = await pay(other, header);
      expect(res.status, other).toBe(409);
      expect(await codeOf(res)).toBe("payment_request_mismatch");
    }
    const replay = await pay(url, header);
    expect(replay.status).toBe(200);
    expect(replay.headers.get("x-payment-deduped")).toBe("true");
    expect(await replay.text()).toBe(content);
    expect(await balance(env, payer)).toBe(before - 1000n);
  });

  it("an Idempotency-Key is bound to its payment, and through it to its request", async () => {
    const { url } = await deployPaid(env);
    const other = url.replace("country=FR", "country=DE");
    const key = { "idempotency-key": `key-${crypto.randomUUID()}` };
    const [h1, h2, h3] = await Promise.all([1, 2, 3].map(() => signedPaymentHeader(env, url)));
    const before = await balance(env, payer);
    expect((await pay(url, h1!, key)).status).toBe(200);
    // Same key, another payment: refused before the tenant or the chain, whichever request.
    const conflict = await pay(url, h2!, key);
    expect(conflict.status).toBe(409);
    expect(await codeOf(conflict)).toBe("idempotency_key_conflict");
    const elsewhere = await pay(other, h3!, key);
    expect(elsewhere.status).toBe(409);
    expect(await codeOf(elsewhere)).toBe("idempotency_key_conflict");
    // Same key and payment for another request: the payment's binding answers.
    const mismatch = await pay(other, h1!, key);
    expect(mismatch.status).toBe(409);
    expect(await codeOf(mismatch)).toBe("payment_request_mismatch");
    const replay = await pay(url, h1!, key);
    expect(replay.status).toBe(200);
    expect(replay.headers.get("x-payment-deduped")).toBe("true");
    expect(await balance(env, payer)).toBe(before - 1000n);
  });
});

describe("x402 payment-identifier", () => {
  it("is declared in every paid 402 next to the Bazaar listing, in one extensions object", async () => {
    const { url } = await deployPaid(env);
    const required = await challengeFor(url);
    const declared = required.extensions?.[PAYMENT_IDENTIFIER];
    expect(isPaymentIdentifierExtension(declared)).toBe(true);
    expect((declared as any).info).toEqual({ required: false });
    expect(validateDiscoveryExtension(required.extensions!.bazaar as never)).toEqual({ valid: true });
    const body = (await (await fetch(url)).json()) as any;
    expect(body.extensions).toEqual(required.extensions);
  });

  it("same id + same payment → the stored response; same id + another payment or request → 409", async () => {
    const { url } = await deployPaid(env);
    const other = url.replace("country=FR", "country=DE");
    const id = generatePaymentId();
    const h1 = await paymentWithId(url, id);
    const before = await balance(env, payer);
    const first = await pay(url, h1);
    expect(first.status).toBe(200);
    const content = await first.text();
    const again = await pay(url, h1);
    expect(again.status).toBe(200);
    expect(again.headers.get("x-payment-deduped")).toBe("true");
    expect(await again.text()).toBe(content);

    for (const [target, header] of [
      [url, await paymentWithId(url, id)],
      [other, await paymentWithId(other, id)],
    ]) {
      const res = await pay(target!, header!);
      expect(res.status, target).toBe(409);
      expect(await codeOf(res)).toBe("idempotency_key_conflict");
    }
    // A fresh id with a fresh payment is a new call.
    expect((await pay(url, await paymentWithId(url, generatePaymentId()))).status).toBe(200);
    expect(await balance(env, payer)).toBe(before - 2000n);
  });

  it("a malformed id is refused with 402 invalid_payment_header, nothing charged", async () => {
    const { url } = await deployPaid(env);
    const required = await challengeFor(url);
    (required.extensions![PAYMENT_IDENTIFIER] as any).info.id = "short id!";
    const header = encodePaymentSignatureHeader(await payerClient(env).createPaymentPayload(required));
    const before = await balance(env, payer);
    const res = await fetch(url, { headers: { "payment-signature": header } });
    expect(res.status).toBe(402);
    expect(await codeOf(res)).toBe("invalid_payment_header");
    expect(await balance(env, payer)).toBe(before);
  });
});
