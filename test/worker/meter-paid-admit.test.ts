// TenantMeter paid admission inside workerd with real Durable Objects: a payment id is admitted at
// most once under concurrency (docs/ARCHITECTURE.md §9.2), spend caps never over-admit (§9.1),
// idempotency keys, and malformed input that never corrupts the book (§9.6).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TenantMeter } from "../../objects/meter/tenant-meter.ts";
import type { PaidAdmitRequest, PaymentClaim } from "../../objects/meter/types.ts";
import {
  YEAR,
  T0,
  DAY,
  NETWORK,
  PAYER_A,
  PAYER_B,
  type Meter,
  type Outcome,
  uniqueSlug,
  cfg,
  configured,
  claim,
  paidRequest,
  admitPaid,
  okCount,
  codes,
  refused,
  response,
  commit,
  thrownInside,
  sqlCount,
} from "./meter-payment-helpers.ts";

describe("payments: a payment id is admitted at most once (ARCHITECTURE §9.2)", () => {
  it("the same payment admitted 50 times at once: 1 admitted, 49 payment_in_flight; after commit every retry replays", async () => {
    const { stub } = await configured();
    const p = claim();
    const results = await Promise.all(Array.from({ length: 50 }, () => admitPaid(stub, p)));
    expect(codes(results)).toEqual({ ok: 1, payment_in_flight: 49 });
    const inFlight = refused(results.find((r) => !r.ok)!);
    expect(inFlight).toMatchObject({ status: 409, configVersion: 1, headers: { "Retry-After": "1" } });

    expect(await commit(stub, p, "0xfeed")).toBe("committed");
    const replays = await Promise.all(Array.from({ length: 20 }, () => admitPaid(stub, p)));
    expect(codes(replays)).toEqual({ payment_replayed: 20 });
    const replay = refused(replays[0]!);
    expect(replay).toMatchObject({ status: 200, transaction: "0xfeed", stored: response() });
    expect(await stub.paymentStatus(p.id)).toMatchObject({
      status: "settled",
      transaction: "0xfeed",
      settledAt: T0,
      hasStoredResponse: true,
    });
  });

  it("a released payment can be presented again; the plain admit RPC takes paid requests too", async () => {
    const { stub } = await configured();
    const p = claim();
    expect((await admitPaid(stub, p)).ok).toBe(true);
    await stub.release(p.id);
    expect(await stub.paymentStatus(p.id)).toBeNull();
    const again = await Promise.all(Array.from({ length: 10 }, () => stub.admit(paidRequest(p)) as Promise<Outcome>));
    expect(codes(again)).toEqual({ ok: 1, payment_in_flight: 9 });
    expect((await stub.spend(T0, p.payer)).daily).toEqual({ settled: "0", reserved: "1000" });
  });

  it("replays and in-flight refusals never consume limits; limits apply to the payer", async () => {
    const { stub } = await configured({
      rateLimit: { perCaller: { requests: 2, windowSeconds: 3600 } },
      usageLimit: { dailyRequests: 3 },
    });
    const p1 = claim();
    const p2 = claim();
    expect((await admitPaid(stub, p1)).ok).toBe(true);
    await commit(stub, p1);
    for (let i = 0; i < 10; i++) expect(refused(await admitPaid(stub, p1)).code).toBe("payment_replayed");
    const second = await admitPaid(stub, p2);
    expect(second.ok).toBe(true);
    expect(second.headers["X-RateLimit-Remaining"]).toBe("0"); // two taken, the replays took none
    for (let i = 0; i < 5; i++) expect(refused(await admitPaid(stub, p2)).code).toBe("payment_in_flight");
    const third = refused(await admitPaid(stub, claim()));
    expect(third).toMatchObject({ code: "rate_limited", status: 429 });
    expect(third.headers["X-Usage-Daily-Remaining"]).toBe("1");
    // Another payer has its own bucket; the daily quota is the tenant's.
    expect((await admitPaid(stub, claim({ payer: PAYER_B }))).ok).toBe(true);
    expect(refused(await admitPaid(stub, claim({ payer: PAYER_B }))).code).toBe("quota_exceeded");
    // A rate-limit refusal reserved nothing.
    expect((await stub.spend(T0)).daily).toEqual({ settled: "1000", reserved: "2000" });
  });

  it("refuses as before when the tenant is not configured or deleted, without recording the payment", async () => {
    const slug = uniqueSlug("unconf");
    const stub = env.TENANT_METER.get(env.TENANT_METER.idFromName(slug)) as Meter;
    const p = claim();
    expect(refused(await admitPaid(stub, p))).toMatchObject({ code: "tenant_not_configured", status: 503 });
    await stub.configure(cfg(slug, { deleted: true }));
    expect(refused(await admitPaid(stub, p))).toMatchObject({ code: "tenant_not_found", status: 404 });
    expect(await stub.paymentStatus(p.id)).toBeNull();
  });
});

describe("payments: spend caps never over-admit (ARCHITECTURE §4, §9.1)", () => {
  it("daily cap 10000, price 1000: 50 concurrent payments admit exactly 10; releases free room; settled spend counts; the next UTC day resets", async () => {
    const { stub } = await configured({ spendLimit: { dailyUsd: 0.01 }, spendCapsAtomic: { daily: "10000" } });
    const payments = Array.from({ length: 50 }, (_, i) => claim({ payer: i % 2 ? PAYER_A : PAYER_B }));
    const results = await Promise.all(payments.map((p) => admitPaid(stub, p)));
    expect(codes(results)).toEqual({ ok: 10, spend_cap_exceeded: 40 });
    const admitted = payments.filter((_, i) => results[i]!.ok);
    const remaining = results.filter((r) => r.ok).map((r) => Number(r.headers["X-Spend-Daily-Remaining"]));
    expect(remaining.sort((a, b) => a - b)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]);
    const refusal = refused(results.find((r) => !r.ok)!);
    expect(refusal).toMatchObject({ status: 402, configVersion: 1 });
    expect(refusal.message).toMatch(/daily spend cap of 10000 \(0 left\)/);
    expect(refusal.headers).toMatchObject({
      "X-Spend-Daily-Limit": "10000",
      "X-Spend-Daily-Remaining": "0",
      "X-Spend-Reset": String(12 * 3600),
    });
    expect(refusal.headers["X-Spend-Monthly-Limit"]).toBeUndefined();

    // Release 3: exactly 3 more fit, even with 50 trying at once.
    await Promise.all(admitted.slice(0, 3).map((p) => stub.release(p.id)));
    const more = await Promise.all(Array.from({ length: 50 }, () => admitPaid(stub, claim())));
    expect(okCount(more)).toBe(3);

    // Commit the first seven: settled spend counts against the cap just the same as reserved.
    await Promise.all(admitted.slice(3).map((p) => commit(stub, p)));
    expect(await stub.spend(T0)).toMatchObject({ daily: { settled: "7000", reserved: "3000" } });
    expect(refused(await admitPaid(stub, claim())).code).toBe("spend_cap_exceeded");

    // Next UTC day: a fresh cap.
    const tomorrow = await Promise.all(Array.from({ length: 20 }, () => admitPaid(stub, claim(), { now: T0 + DAY })));
    expect(okCount(tomorrow)).toBe(10);
    expect((await stub.spend(T0 + DAY)).daily).toEqual({ settled: "0", reserved: "10000" });
  });

  it("perPayerDaily caps one payer while another still fits", async () => {
    const { stub } = await configured({ spendCapsAtomic: { daily: "1000000", perPayerDaily: "3000" } });
    const a = await Promise.all(Array.from({ length: 10 }, () => admitPaid(stub, claim({ payer: PAYER_A }))));
    expect(codes(a)).toEqual({ ok: 3, spend_cap_exceeded: 7 });
    const r = refused(a.find((x) => !x.ok)!);
    expect(r.headers).toMatchObject({
      "X-Spend-Payer-Daily-Limit": "3000",
      "X-Spend-Payer-Daily-Remaining": "0",
      "X-Spend-Daily-Remaining": "997000",
    });
    expect(r.message).toMatch(/per-payer/);
    const b = await admitPaid(stub, claim({ payer: PAYER_B }));
    expect(b.ok).toBe(true);
    expect(b.headers).toMatchObject({ "X-Spend-Payer-Daily-Remaining": "2000", "X-Spend-Daily-Remaining": "996000" });
    expect((await stub.spend(T0, PAYER_A)).payerDaily).toEqual({ settled: "0", reserved: "3000" });
  });

  it("a monthly cap holds across days and resets with the UTC month", async () => {
    const { stub } = await configured({ spendCapsAtomic: { monthly: "5000" } });
    const lastDays = Date.UTC(YEAR, 5, 29, 23, 0, 0);
    const first = await Promise.all(Array.from({ length: 8 }, () => admitPaid(stub, claim(), { now: lastDays })));
    expect(okCount(first)).toBe(5);
    const nextDay = refused(await admitPaid(stub, claim(), { now: lastDays + DAY }));
    expect(nextDay).toMatchObject({
      code: "spend_cap_exceeded",
      headers: { "X-Spend-Monthly-Limit": "5000", "X-Spend-Monthly-Remaining": "0" },
    });
    const july = await Promise.all(
      Array.from({ length: 8 }, () => admitPaid(stub, claim(), { now: Date.UTC(YEAR, 6, 1, 0, 0, 1) })),
    );
    expect(okCount(july)).toBe(5);
  });

  it("caps switched on mid-day count what was already spent that day", async () => {
    const { stub, slug } = await configured({});
    const ps = [claim(), claim(), claim()];
    for (const p of ps) expect((await admitPaid(stub, p)).ok).toBe(true);
    await commit(stub, ps[0]!);
    await stub.configure(cfg(slug, { version: 2, spendCapsAtomic: { daily: "4000" } }));
    expect(okCount(await Promise.all(Array.from({ length: 5 }, () => admitPaid(stub, claim()))))).toBe(1);
  });
});

describe("payments: idempotency keys", () => {
  it("a key reused with a different payment is a conflict; the same payment falls to the payment-id rules", async () => {
    const { stub } = await configured({ spendCapsAtomic: { daily: "100000" } });
    const p1 = claim();
    const p2 = claim();
    expect((await admitPaid(stub, p1, { idempotencyKey: "order-42" })).ok).toBe(true);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => admitPaid(stub, p2, { idempotencyKey: "order-42" })),
    );
    expect(codes(results)).toEqual({ idempotency_key_conflict: 10 });
    expect(refused(results[0]!)).toMatchObject({ status: 409, configVersion: 1 });
    expect(refused(await admitPaid(stub, p1, { idempotencyKey: "order-42" })).code).toBe("payment_in_flight");
    // The conflicts reserved nothing.
    expect((await stub.spend(T0)).daily).toEqual({ settled: "0", reserved: "1000" });
    // Keys are scoped per payer: another payer may use the same key.
    expect((await admitPaid(stub, claim({ payer: PAYER_B }), { idempotencyKey: "order-42" })).ok).toBe(true);
    // After commit the key still points at p1: p1 replays, p2 still conflicts.
    await commit(stub, p1);
    expect(refused(await admitPaid(stub, p1, { idempotencyKey: "order-42" })).code).toBe("payment_replayed");
    expect(refused(await admitPaid(stub, p2, { idempotencyKey: "order-42" })).code).toBe("idempotency_key_conflict");
  });

  it("a released payment frees its key (the payer was not charged)", async () => {
    const { stub } = await configured();
    const p1 = claim();
    const p2 = claim();
    expect((await admitPaid(stub, p1, { idempotencyKey: "k" })).ok).toBe(true);
    await stub.release(p1.id);
    expect((await admitPaid(stub, p2, { idempotencyKey: "k" })).ok).toBe(true);
    expect(refused(await admitPaid(stub, p1, { idempotencyKey: "k" })).code).toBe("idempotency_key_conflict");
  });

  it("a payment-identifier is a key of its own namespace, checked and freed together with Idempotency-Key", async () => {
    const { stub } = await configured();
    const [p1, p2, p3] = [claim(), claim(), claim()];
    const pid = "pay_0123456789abcdef";
    expect((await admitPaid(stub, p1, { idempotencyKey: "k1", paymentIdentifier: pid })).ok).toBe(true);
    expect(refused(await admitPaid(stub, p2, { paymentIdentifier: pid })).code).toBe("idempotency_key_conflict");
    expect(refused(await admitPaid(stub, p2, { idempotencyKey: "k1" })).code).toBe("idempotency_key_conflict");
    expect(refused(await admitPaid(stub, p2, { idempotencyKey: "fresh", paymentIdentifier: pid })).code).toBe(
      "idempotency_key_conflict",
    );
    // The same string as an Idempotency-Key is another key.
    expect((await admitPaid(stub, p3, { idempotencyKey: pid })).ok).toBe(true);
    await stub.release(p1.id);
    expect(await sqlCount(stub, "SELECT COUNT(*) AS n FROM idempotency_keys")).toBe(1);
    expect((await admitPaid(stub, p2, { idempotencyKey: "k1", paymentIdentifier: pid })).ok).toBe(true);
    expect(await thrownInside(stub, (m) => m.admitPaid(paidRequest(claim(), { paymentIdentifier: "" })))).toMatch(
      /TypeError: .*paymentIdentifier/,
    );
  });

  it("keys are kept 24 h, then pruned by housekeeping", async () => {
    const { stub } = await configured();
    const p1 = claim();
    expect((await admitPaid(stub, p1, { idempotencyKey: "k" })).ok).toBe(true);
    await commit(stub, p1);
    await runInDurableObject(stub, (m: TenantMeter) => m.housekeep(T0 + DAY - 1));
    expect(await sqlCount(stub, "SELECT COUNT(*) AS n FROM idempotency_keys")).toBe(1);
    expect(refused(await admitPaid(stub, claim(), { idempotencyKey: "k", now: T0 + DAY - 1 })).code).toBe(
      "idempotency_key_conflict",
    );
    await runInDurableObject(stub, (m: TenantMeter) => m.housekeep(T0 + DAY));
    expect(await sqlCount(stub, "SELECT COUNT(*) AS n FROM idempotency_keys")).toBe(0);
    expect((await admitPaid(stub, claim(), { idempotencyKey: "k", now: T0 + DAY })).ok).toBe(true);
  });
});

describe("payments: bad input never corrupts (ARCHITECTURE §9.6)", () => {
  it("commit, release and markPending of unknown ids are no-ops", async () => {
    const { stub } = await configured();
    const p = claim();
    expect((await admitPaid(stub, p)).ok).toBe(true);
    expect(
      await stub.commit("nope", { transaction: "0x1", network: NETWORK, payer: PAYER_A }, response(), {
        requestId: "r",
        settledAt: T0,
      }),
    ).toBe("unknown_payment");
    await stub.release("nope");
    await stub.markPending("nope", { paymentPayload: {}, paymentRequirements: {} });
    expect(await stub.paymentStatus("nope")).toBeNull();
    expect(
      await runInDurableObject(stub, (m: TenantMeter) =>
        m.commit(42 as unknown as string, null as never, null as never, null as never),
      ),
    ).toBe("unknown_payment");
    expect(await sqlCount(stub, "SELECT COUNT(*) AS n FROM outbox")).toBe(0);
    expect(await stub.paymentStatus(p.id)).toMatchObject({ status: "in_flight" });
    expect((await stub.spend(T0)).daily).toEqual({ settled: "0", reserved: "1000" });
  });

  it("a settled payment is never un-settled, re-settled or marked pending", async () => {
    const { stub } = await configured();
    const p = claim();
    expect((await admitPaid(stub, p)).ok).toBe(true);
    expect(await commit(stub, p, "0xfirst")).toBe("committed");
    expect(await commit(stub, p, "0xsecond")).toBe("already_settled");
    await stub.release(p.id);
    await stub.release(p.id, { includePending: true });
    await stub.markPending(p.id, { paymentPayload: {}, paymentRequirements: {} });
    expect(await stub.paymentStatus(p.id)).toMatchObject({ status: "settled", transaction: "0xfirst" });
    expect(await sqlCount(stub, "SELECT COUNT(*) AS n FROM outbox")).toBeLessThanOrEqual(1); // the alarm may have flushed it
    expect((await stub.spend(T0)).daily).toEqual({ settled: "1000", reserved: "0" });
  });

  it("a malformed paid admit or retry material throws TypeError and writes nothing", async () => {
    const { stub } = await configured();
    const good = paidRequest(claim());
    const bad: [string, PaidAdmitRequest][] = [
      ["payment.amountAtomic", { ...good, payment: { ...good.payment, amountAtomic: "1.5" } }],
      ["payment.amountAtomic", { ...good, payment: { ...good.payment, amountAtomic: "-1" } }],
      ["payment.id", { ...good, payment: { ...good.payment, id: "" } }],
      ["payment.validBefore", { ...good, payment: { ...good.payment, validBefore: Number.NaN } }],
      ["requestId", { ...good, requestId: "" }],
      ["idempotencyKey", { ...good, idempotencyKey: "k".repeat(300) }],
      ["payment must be", { ...good, payment: null as unknown as PaymentClaim }],
    ];
    for (const [what, req] of bad)
      expect(await thrownInside(stub, (m) => m.admitPaid(req))).toMatch(
        new RegExp(`^TypeError: invalid PaidAdmitRequest: ${what}`),
      );
    expect(await sqlCount(stub, "SELECT COUNT(*) AS n FROM payments")).toBe(0);
    expect(await sqlCount(stub, "SELECT COUNT(*) AS n FROM spend")).toBe(0);

    // Retry material at admit is checked the same way, before anything is written.
    const badRetry: [RegExp, PaidAdmitRequest][] = [
      [/must carry paymentPayload/, { ...good, retry: { paymentPayload: null, paymentRequirements: {} } }],
      [/must carry paymentPayload/, { ...good, retry: "junk" as never }],
      [/larger than/, { ...good, retry: { paymentPayload: { big: "x".repeat(70_000) }, paymentRequirements: {} } }],
    ];
    for (const [what, req] of badRetry) expect(await thrownInside(stub, (m) => m.admitPaid(req))).toMatch(what);
    expect(await sqlCount(stub, "SELECT COUNT(*) AS n FROM payments")).toBe(0);
    expect(await sqlCount(stub, "SELECT COUNT(*) AS n FROM spend")).toBe(0);

    expect((await stub.admitPaid(good)).ok).toBe(true);
    expect(
      await thrownInside(stub, (m) =>
        m.markPending(good.payment.id, { paymentPayload: undefined, paymentRequirements: {} }),
      ),
    ).toMatch(/^TypeError/);
    expect(
      await thrownInside(stub, (m) =>
        m.markPending(good.payment.id, { paymentPayload: { big: "x".repeat(70_000) }, paymentRequirements: {} }),
      ),
    ).toMatch(/larger/);
    expect(await stub.paymentStatus(good.payment.id)).toMatchObject({ status: "in_flight" });
  });

  it("a config with invalid spend caps is rejected", async () => {
    const { stub, slug } = await configured({ spendCapsAtomic: { daily: "1000" } });
    expect(
      await thrownInside(stub, (m) => m.configure(cfg(slug, { version: 2, spendCapsAtomic: { daily: "10.5" } }))),
    ).toMatch(/spendCapsAtomic\.daily/);
    expect((await admitPaid(stub, claim())).headers["X-Spend-Daily-Limit"]).toBe("1000");
  });
});
