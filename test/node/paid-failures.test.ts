// Bad payments and broken dependencies on the real local stack: 1,000 malformed
// PAYMENT-SIGNATURE values never cause a 5xx or leave anything reserved; random PAYMENT-SIGNATURE
// and X-PAYMENT values (fast-check) always get a 4xx JSON answer with a stable code; a settle that
// fails on chain sends no content; a facilitator that is down fails closed.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isErrorCode } from "../../src/http/error-codes.ts";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  balance,
  deployPaid,
  earnings,
  payingFetch,
  signedPaymentHeader,
  startPaidEnv,
  type PaidEnv,
} from "./support/paid-env.ts";

let env: PaidEnv;

beforeAll(async () => {
  env = await startPaidEnv();
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

const b64 = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64");

function mutations(valid: any): { name: string; header: string; expect: string }[] {
  const clone = () => JSON.parse(JSON.stringify(valid));
  const withAccepted = (patch: Record<string, unknown>) => {
    const p = clone();
    Object.assign(p.accepted, patch);
    return b64(p);
  };
  const withAuth = (patch: Record<string, unknown>) => {
    const p = clone();
    Object.assign(p.payload.authorization, patch);
    return b64(p);
  };
  const badSig = clone();
  badSig.payload.signature = "0x" + "11".repeat(65);
  const v1 = clone();
  v1.x402Version = 1;
  return [
    { name: "not base64", header: "%%%not-base64%%%", expect: "invalid_payment_header" },
    { name: "base64 of not JSON", header: b64("{nope"), expect: "invalid_payment_header" },
    { name: "JSON of the wrong shape", header: b64({ hello: "world" }), expect: "invalid_payment_header" },
    { name: "x402 v1", header: b64(v1), expect: "unsupported_x402_version" },
    { name: "wrong network", header: withAccepted({ network: "eip155:1" }), expect: "payment_mismatch" },
    { name: "wrong asset", header: withAccepted({ asset: "0x" + "22".repeat(20) }), expect: "payment_mismatch" },
    { name: "wrong amount", header: withAccepted({ amount: "1" }), expect: "payment_mismatch" },
    { name: "wrong payTo", header: withAccepted({ payTo: "0x" + "33".repeat(20) }), expect: "payment_mismatch" },
    { name: "authorization value too low", header: withAuth({ value: "999" }), expect: "payment_mismatch" },
    { name: "expired", header: withAuth({ validBefore: "1000" }), expect: "payment_expired" },
    { name: "oversized", header: "A".repeat(20_000), expect: "invalid_payment_header" },
    { name: "wrong signature", header: b64(badSig), expect: "payment_invalid" },
  ];
}

describe("malformed payments", () => {
  it("1,000 malformed PAYMENT-SIGNATURE values get 4xx JSON, never 5xx, and reserve nothing", async () => {
    // The per-payer cap fits exactly one call: any leaked reservation would refuse the real one.
    const { slug, url } = await deployPaid(env, { spendLimit: { perPayerDailyUsd: 0.001 } });
    const valid = JSON.parse(Buffer.from(await signedPaymentHeader(env, url), "base64").toString("utf8"));
    const cases = mutations(valid);
    const seen = new Map<string, number>();
    for (let start = 0; start < 1000; start += 50) {
      const batch = Array.from({ length: 50 }, (_, i) => cases[(start + i) % cases.length]!);
      const responses = await Promise.all(batch.map((c) => fetch(url, { headers: { "payment-signature": c.header } })));
      for (const [i, res] of responses.entries()) {
        const c = batch[i]!;
        expect(res.status, c.name).toBeGreaterThanOrEqual(400);
        expect(res.status, c.name).toBeLessThan(500);
        const body = (await res.json()) as any;
        expect(body.code ?? body.error?.code, c.name).toBe(c.expect);
        expect(typeof body.requestId).toBe("string");
        seen.set(c.expect, (seen.get(c.expect) ?? 0) + 1);
      }
    }
    expect([...seen.values()].reduce((a, b) => a + b, 0)).toBe(1000);
    const ok = await payingFetch(env)(url);
    expect(ok.status).toBe(200);
    expect((await earnings(env, slug)).totals !== undefined).toBe(true);
  });
});

describe("random payment headers (property)", () => {
  it("any PAYMENT-SIGNATURE / X-PAYMENT value through the dispatcher: 4xx JSON with a stable code, never a 5xx", async () => {
    const { url } = await deployPaid(env);
    const valid = JSON.parse(Buffer.from(await signedPaymentHeader(env, url), "base64").toString("utf8"));
    // Header values a client can send: printable ASCII (fetch refuses control characters).
    const printable = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 300,
    });
    const fields = [
      "x402Version",
      "accepted.network",
      "accepted.amount",
      "accepted.payTo",
      "payload.signature",
      "payload.authorization.from",
      "payload.authorization.value",
      "payload.authorization.validBefore",
      "payload.authorization.nonce",
    ];
    const mutated = fc.tuple(fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 2 })).map(([field, value]) => {
      const copy = JSON.parse(JSON.stringify(valid));
      const keys = field.split(".");
      let node = copy;
      for (const key of keys.slice(0, -1)) node = node[key];
      node[keys[keys.length - 1]!] = value;
      return { header: b64(copy), changed: JSON.stringify(copy) !== JSON.stringify(valid) };
    });
    // Well-formed and matching, but not signed by `from`: these reach the facilitator's /verify.
    const hex = (n: number) =>
      fc.uint8Array({ minLength: n, maxLength: n }).map((a) => `0x${Buffer.from(a).toString("hex")}`);
    const forged = fc
      .record({ signature: hex(65), nonce: hex(32), from: hex(20) })
      .map(({ signature, nonce, from }) => {
        const copy = JSON.parse(JSON.stringify(valid));
        copy.payload.signature = signature;
        Object.assign(copy.payload.authorization, { nonce, from });
        return { header: b64(copy), changed: true };
      });
    const value = fc.oneof(
      printable.map((header) => ({ header, changed: true })),
      fc.jsonValue({ maxDepth: 3 }).map((v) => ({ header: b64(v), changed: true })),
      mutated,
      forged,
    );
    const names = fc.constantFrom(["payment-signature"], ["x-payment"], ["payment-signature", "x-payment"]);
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(value, names, async ({ header, changed }, headerNames) => {
        fc.pre(changed); // the untouched signed payment would (rightly) be paid for
        const headers = Object.fromEntries(headerNames.map((n) => [n, header]));
        const res = await fetch(url, { headers });
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.headers.get("content-type")).toMatch(/^application\/json/);
        const body = (await res.json()) as any;
        const code = body.code ?? body.error?.code;
        expect(isErrorCode(code), String(code)).toBe(true);
        expect(typeof body.requestId).toBe("string");
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }),
      { numRuns: 200 },
    );
    console.log(`random payment headers: ${[...codes].map(([c, n]) => `${c} ${n}`).join(", ")}`);
  });
});

describe("settlement failures", () => {
  it("when the chain refuses the transfer, no content is sent and nothing is recorded", async () => {
    const { url } = await deployPaid(env);
    const key = generatePrivateKey();
    const poor = privateKeyToAccount(key).address;
    await env.stack.payments.chain.mint(poor, 1000n); // enough for exactly one call
    const [h1, h2] = await Promise.all([signedPaymentHeader(env, url, key), signedPaymentHeader(env, url, key)]);
    const responses = await Promise.all([h1, h2].map((h) => fetch(url, { headers: { "payment-signature": h! } })));
    const ok = responses.filter((r) => r.status === 200);
    const failed = responses.filter((r) => r.status !== 200);
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.status).toBe(402);
    const body = (await failed[0]!.json()) as any;
    expect(["settlement_failed", "payment_invalid"]).toContain(body.code);
    expect(body.items).toBeUndefined();
    if (body.code === "settlement_failed") {
      const pr = JSON.parse(Buffer.from(failed[0]!.headers.get("payment-response")!, "base64").toString("utf8"));
      expect(pr.success).toBe(false);
      expect(pr.errorMessage).toBeUndefined();
    }
    expect(await balance(env, poor)).toBe(0n);
  });
});

describe("facilitator outage", () => {
  it("fails closed: 503 facilitator_unavailable, no content, no charge", async () => {
    const { url } = await deployPaid(env);
    const header = await signedPaymentHeader(env, url);
    const payer = env.stack.payments.accounts.payer.address;
    const before = await balance(env, payer);
    await env.stack.payments.facilitator.stop();
    const res = await fetch(url, { headers: { "payment-signature": header } });
    expect(res.status).toBe(503);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe("facilitator_unavailable");
    expect(body.items).toBeUndefined();
    expect(await balance(env, payer)).toBe(before);
  });
});
