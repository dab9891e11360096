// TenantMeter payments inside workerd with real Durable Objects and D1: exactly-once admission
// of a payment id under concurrency (DESIGN §9.2), spend caps that never over-admit (§9.1),
// idempotency keys, the outbox that gets every settlement into the D1 ledger exactly once even
// while D1 fails (§9.4), stale reservations, pending settlements and reconciliation, and
// orphaned in-flight payments (the dispatcher commits after responding: an isolate that dies
// in between leaves one, and the meter must find out from the facilitator whether it settled).
//
// Clock: admits pass `now` a few years in the future, like tenant-meter.test.ts. The meter's
// alarm runs on the real clock: it may flush the outbox on its own during a test (that is the
// production path and the flush is idempotent), so assertions look at D1 and the outbox, not at
// which flush moved a row.
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AdmitResult, MeterConfig, PaidAdmitRequest, PaymentClaim, PaymentRefusal, StoredResponse } from "../../objects/meter-types.ts";
import type { VerifyOutcome, SettleOutcome } from "../../objects/payments.ts";
import { type FacilitatorClient, httpFacilitator, type TenantMeter } from "../../objects/tenant-meter.ts";

const YEAR = new Date().getUTCFullYear() + 3;
/** 10 June, noon UTC, three years from now. */
const T0 = Date.UTC(YEAR, 5, 10, 12, 0, 0);
const SECOND = 1000;
const DAY = 86_400_000;
const NETWORK = "eip155:84532";
const ASSET = "0x036cbd53842c5426634e7929541ec2318f3dcf7e";
const PAY_TO = "0x" + "b".repeat(40);
const PAYER_A = "0x" + "a".repeat(40);
const PAYER_B = "0x" + "c".repeat(40);

type Meter = DurableObjectStub<TenantMeter>;
type Outcome = AdmitResult | PaymentRefusal;

let counter = 0;
function uniqueSlug(prefix: string): string {
  return `${prefix}-${++counter}-${crypto.randomUUID().slice(0, 8)}`;
}

function cfg(slug: string, overrides: Partial<MeterConfig> = {}): MeterConfig {
  return { slug, version: 1, deleted: false, rateLimit: {}, usageLimit: {}, spendLimit: {}, priceAtomic: "1000", ...overrides };
}

async function configured(overrides: Partial<MeterConfig> = {}, prefix = "pay"): Promise<{ stub: Meter; slug: string }> {
  const slug = uniqueSlug(prefix);
  const stub = env.TENANT_METER.get(env.TENANT_METER.idFromName(slug)) as Meter;
  expect(await stub.configure(cfg(slug, overrides))).toEqual({ applied: true, version: overrides.version ?? 1 });
  return { stub, slug };
}

let nonceCounter = 0;
function claim(overrides: Partial<PaymentClaim> = {}): PaymentClaim {
  const payer = overrides.payer ?? PAYER_A;
  const nonce = `0x${(++nonceCounter).toString(16).padStart(64, "0")}`;
  return { id: `${NETWORK}:${ASSET}:${payer}:${nonce}`, amountAtomic: "1000", payer, payTo: PAY_TO, network: NETWORK, asset: ASSET, validBefore: T0 / 1000 + 300, ...overrides };
}

function paidRequest(payment: PaymentClaim, extra: Partial<PaidAdmitRequest> = {}): PaidAdmitRequest {
  return { caller: payment.payer, now: T0, payment, requestId: `req-${crypto.randomUUID()}`, ...extra };
}

function admitPaid(stub: Meter, payment: PaymentClaim, extra: Partial<PaidAdmitRequest> = {}): Promise<Outcome> {
  return stub.admitPaid(paidRequest(payment, extra));
}

function okCount(results: Outcome[]): number {
  return results.filter((r) => r.ok).length;
}

function codes(results: Outcome[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    const key = r.ok ? "ok" : r.code;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

function refused(r: Outcome): Extract<Outcome, { ok: false }> {
  if (r.ok) throw new Error("expected a refusal, got an admit");
  return r;
}

const BODY = btoa(JSON.stringify({ temperature: 21.5 }));
function response(overrides: Partial<StoredResponse> = {}): StoredResponse {
  return { status: 200, headers: { "content-type": "application/json" }, bodyBase64: BODY, bodyOmitted: false, ...overrides };
}

function commit(stub: Meter, p: PaymentClaim, tx = `0x${p.id.slice(-8)}`, settledAt = T0) {
  return stub.commit(p.id, { transaction: tx, network: p.network, payer: p.payer }, response(), { requestId: `req-${p.id.slice(-6)}`, settledAt });
}

/** Runs `fn` inside the object and returns what it threw, as "Name: message" ("" if nothing). */
function thrownInside(stub: Meter, fn: (meter: TenantMeter) => unknown): Promise<string> {
  return runInDurableObject(stub, (meter: TenantMeter) => {
    try {
      fn(meter);
      return "";
    } catch (err) {
      return String(err);
    }
  });
}

function sqlCount(stub: Meter, sql: string): Promise<number> {
  return runInDurableObject(stub, (_m, state) => state.storage.sql.exec<{ n: number }>(sql).one().n);
}

async function ledgerRows(slug: string): Promise<{ payment_id: string; amount_atomic: unknown; tx_hash: string | null; settled_at: number; request_id: string; payer: string }[]> {
  const { results } = await env.DB.prepare("SELECT payment_id, amount_atomic, tx_hash, settled_at, request_id, payer FROM ledger WHERE tenant = ? ORDER BY payment_id")
    .bind(slug)
    .all<{ payment_id: string; amount_atomic: unknown; tx_hash: string | null; settled_at: number; request_id: string; payer: string }>();
  return results;
}

async function auditCount(slug: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE subject = ? AND action = 'payment.settled' AND dedupe_key LIKE 'settlement:%'")
    .bind(slug)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** Makes D1 refuse this tenant's ledger rows for real (a trigger that aborts the insert). */
async function ledgerOffline(slug: string, offline: boolean): Promise<void> {
  const name = `ledger_offline_${slug.replace(/[^a-z0-9]/g, "_")}`;
  if (offline) {
    await env.DB.prepare(`CREATE TRIGGER ${name} BEFORE INSERT ON ledger WHEN NEW.tenant = '${slug}' BEGIN SELECT RAISE(ABORT, 'ledger offline'); END`).run();
  } else {
    await env.DB.prepare(`DROP TRIGGER ${name}`).run();
  }
}

describe("payments: a payment id is admitted at most once (DESIGN §9.2)", () => {
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
    expect(await stub.paymentStatus(p.id)).toMatchObject({ status: "settled", transaction: "0xfeed", settledAt: T0, hasStoredResponse: true });
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
    const { stub } = await configured({ rateLimit: { perCaller: { requests: 2, windowSeconds: 3600 } }, usageLimit: { dailyRequests: 3 } });
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

describe("payments: spend caps never over-admit (DESIGN §4, §9.1)", () => {
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
    expect(refusal.headers).toMatchObject({ "X-Spend-Daily-Limit": "10000", "X-Spend-Daily-Remaining": "0", "X-Spend-Reset": String(12 * 3600) });
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
    expect(r.headers).toMatchObject({ "X-Spend-Payer-Daily-Limit": "3000", "X-Spend-Payer-Daily-Remaining": "0", "X-Spend-Daily-Remaining": "997000" });
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
    expect(nextDay).toMatchObject({ code: "spend_cap_exceeded", headers: { "X-Spend-Monthly-Limit": "5000", "X-Spend-Monthly-Remaining": "0" } });
    const july = await Promise.all(Array.from({ length: 8 }, () => admitPaid(stub, claim(), { now: Date.UTC(YEAR, 6, 1, 0, 0, 1) })));
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
    const results = await Promise.all(Array.from({ length: 10 }, () => admitPaid(stub, p2, { idempotencyKey: "order-42" })));
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

  it("keys are kept 24 h, then pruned by housekeeping", async () => {
    const { stub } = await configured();
    const p1 = claim();
    expect((await admitPaid(stub, p1, { idempotencyKey: "k" })).ok).toBe(true);
    await commit(stub, p1);
    await runInDurableObject(stub, (m: TenantMeter) => m.housekeep(T0 + DAY - 1));
    expect(await sqlCount(stub, "SELECT COUNT(*) AS n FROM idempotency_keys")).toBe(1);
    expect(refused(await admitPaid(stub, claim(), { idempotencyKey: "k", now: T0 + DAY - 1 })).code).toBe("idempotency_key_conflict");
    await runInDurableObject(stub, (m: TenantMeter) => m.housekeep(T0 + DAY));
    expect(await sqlCount(stub, "SELECT COUNT(*) AS n FROM idempotency_keys")).toBe(0);
    expect((await admitPaid(stub, claim(), { idempotencyKey: "k", now: T0 + DAY })).ok).toBe(true);
  });
});

describe("payments: every settlement reaches the D1 ledger exactly once (DESIGN §9.4)", () => {
  it("keeps 20 settlements through a D1 outage and an eviction, then records each exactly once", async () => {
    const { stub, slug } = await configured({}, "ledger");
    // Amounts beyond 2^53 and with distinct digits: they must arrive as exact decimal strings.
    const payments = Array.from({ length: 20 }, (_, i) => claim({ amountAtomic: `${9007199254740993n + BigInt(i) * 1_000_000_007n}`, payer: i % 2 ? PAYER_A : PAYER_B }));
    const admitted = await Promise.all(payments.map((p) => admitPaid(stub, p)));
    expect(okCount(admitted)).toBe(20);

    await ledgerOffline(slug, true);
    try {
      expect(new Set(await Promise.all(payments.map((p) => commit(stub, p))))).toEqual(new Set(["committed"]));
      const failed = await stub.flushOutbox();
      expect(failed.error).toMatch(/ledger offline/);
      expect(failed).toMatchObject({ flushed: 0, remaining: 20 });
      expect(await sqlCount(stub, "SELECT COUNT(*) AS n FROM outbox")).toBe(20);
      expect(await ledgerRows(slug)).toEqual([]);
      expect(await auditCount(slug)).toBe(0); // the batch is atomic: no audit row without its ledger row
      // The failure scheduled a retry on the alarm.
      expect(await runInDurableObject(stub, (_m, state) => state.storage.getAlarm())).not.toBeNull();
      await evictDurableObject(stub);
      expect((await stub.flushOutbox()).remaining).toBe(20);
    } finally {
      await ledgerOffline(slug, false);
    }

    await evictDurableObject(stub);
    expect((await stub.flushOutbox()).remaining).toBe(0);
    const rows = await ledgerRows(slug);
    expect(rows).toHaveLength(20);
    expect(await auditCount(slug)).toBe(20);
    const byId = new Map(rows.map((r) => [r.payment_id, r]));
    for (const p of payments) {
      const row = byId.get(p.id)!;
      expect(row.amount_atomic).toBe(p.amountAtomic);
      expect(row).toMatchObject({ tx_hash: `0x${p.id.slice(-8)}`, settled_at: T0, payer: p.payer, request_id: `req-${p.id.slice(-6)}` });
    }
    const types = await env.DB.prepare("SELECT DISTINCT typeof(amount_atomic) AS t FROM ledger WHERE tenant = ?").bind(slug).all<{ t: string }>();
    expect(types.results).toEqual([{ t: "text" }]);
    const audit = await env.DB.prepare("SELECT actor, request_id, detail, dedupe_key FROM audit_log WHERE dedupe_key = ?")
      .bind(`settlement:${payments[3]!.id}`)
      .first<{ actor: string; request_id: string; detail: string; dedupe_key: string }>();
    expect(audit).toMatchObject({ actor: "meter", request_id: `req-${payments[3]!.id.slice(-6)}` });
    expect(JSON.parse(audit!.detail)).toEqual({
      paymentId: payments[3]!.id,
      amountAtomic: payments[3]!.amountAtomic,
      payer: payments[3]!.payer,
      payTo: PAY_TO,
      network: NETWORK,
      asset: ASSET,
      transaction: `0x${payments[3]!.id.slice(-8)}`,
    });

    // Flushing again, committing again, more commits with an eviction in between: still exact.
    expect(await stub.flushOutbox()).toEqual({ flushed: 0, remaining: 0 });
    expect(new Set(await Promise.all(payments.map((p) => commit(stub, p, "0xother"))))).toEqual(new Set(["already_settled"]));
    const extra = [claim(), claim()];
    for (const p of extra) expect((await admitPaid(stub, p)).ok).toBe(true);
    await Promise.all(extra.map((p) => commit(stub, p)));
    await evictDurableObject(stub);
    expect((await stub.flushOutbox()).remaining).toBe(0);
    expect(await ledgerRows(slug)).toHaveLength(22);
    expect(await auditCount(slug)).toBe(22);
    expect((await ledgerRows(slug)).find((r) => r.payment_id === payments[0]!.id)!.tx_hash).toBe(`0x${payments[0]!.id.slice(-8)}`);
  });

  it("the alarm delivers the outbox on its own", async () => {
    const { stub, slug } = await configured({}, "ledger-alarm");
    const p = claim();
    expect((await admitPaid(stub, p)).ok).toBe(true);
    await commit(stub, p);
    const deadline = Date.now() + 10_000;
    while ((await ledgerRows(slug)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await ledgerRows(slug)).toHaveLength(1);
    expect(await sqlCount(stub, "SELECT COUNT(*) AS n FROM outbox")).toBe(0);
  });
});

describe("payments: stored responses", () => {
  it("keeps a body up to 1 MiB for replay and omits a larger one", async () => {
    const { stub } = await configured();
    const small = claim();
    const big = claim();
    for (const p of [small, big]) expect((await admitPaid(stub, p)).ok).toBe(true);
    const bigBody = btoa("x".repeat(1024 * 1024 + 1));
    await stub.commit(big.id, { transaction: "0x1", network: NETWORK, payer: PAYER_A }, response({ bodyBase64: bigBody }), { requestId: "r-big", settledAt: T0 });
    await commit(stub, small);
    expect(refused(await admitPaid(stub, big))).toMatchObject({
      code: "payment_replayed",
      stored: { status: 200, headers: { "content-type": "application/json" }, bodyBase64: null, bodyOmitted: true },
    });
    expect(refused(await admitPaid(stub, small))).toMatchObject({ code: "payment_replayed", stored: { bodyBase64: BODY, bodyOmitted: false } });
  });
});

describe("payments: stale reservations and pending settlements", () => {
  it("housekeeping releases in-flight payments without retry material that can no longer settle (validBefore + 60 s)", async () => {
    const { stub } = await configured({ spendCapsAtomic: { daily: "1000" } });
    const p = claim({ validBefore: T0 / 1000 + 30 });
    expect((await admitPaid(stub, p)).ok).toBe(true);
    expect(refused(await admitPaid(stub, claim())).code).toBe("spend_cap_exceeded");
    await runInDurableObject(stub, (m: TenantMeter) => m.housekeep(T0 + 90 * SECOND)); // exactly validBefore + 60 s
    expect(await stub.paymentStatus(p.id)).toBeNull();
    expect((await stub.spend(T0)).daily).toEqual({ settled: "0", reserved: "0" });
    expect((await admitPaid(stub, claim())).ok).toBe(true);
    // A pending settlement is never released as stale.
    const q = claim({ validBefore: T0 / 1000 + 30, amountAtomic: "0" });
    expect((await admitPaid(stub, q)).ok).toBe(true);
    await stub.markPending(q.id, { paymentPayload: { x402Version: 2 }, paymentRequirements: { scheme: "exact" } });
    // Neither is an in-flight one that carries retry material (it is reconciled instead).
    const r = claim({ validBefore: T0 / 1000 + 30, amountAtomic: "0" });
    expect((await admitPaid(stub, r, { retry: retryFor(r) })).ok).toBe(true);
    expect(await runInDurableObject(stub, (m: TenantMeter) => m.releaseStale(T0 + DAY))).toBe(1); // only the in-flight one without material
    expect(await stub.paymentStatus(q.id)).toMatchObject({ status: "settlement_pending" });
    expect(await stub.paymentStatus(r.id)).toMatchObject({ status: "in_flight", hasRetryMaterial: true });
  });

  it("a pending settlement keeps its reservation across eviction, refuses retries, ignores release, and is reconciled by the facilitator", async () => {
    const { stub, slug } = await configured({ spendCapsAtomic: { daily: "5000" } }, "pending");
    const p = claim();
    expect((await admitPaid(stub, p)).ok).toBe(true);
    const payload = { x402Version: 2, accepted: { scheme: "exact" }, payload: { signature: "0xsig" } };
    await stub.markPending(p.id, { paymentPayload: payload, paymentRequirements: { scheme: "exact", amount: "1000" }, transaction: "0xbroadcast" });
    await stub.release(p.id); // the dispatcher must not drop a pending settlement: no-op
    await evictDurableObject(stub);

    const status = await stub.paymentStatus(p.id);
    expect(status).toMatchObject({ status: "settlement_pending", transaction: "0xbroadcast", attempts: 0, unresolved: false });
    expect(status!.nextAttemptAt).toBeGreaterThan(Date.now() - 5000);
    const retry = refused(await admitPaid(stub, p));
    expect(retry).toMatchObject({ code: "payment_in_flight", status: 409, headers: { "Retry-After": "5" } });
    expect((await stub.spend(T0)).daily).toEqual({ settled: "0", reserved: "1000" });

    // The facilitator says the nonce is used: the transfer happened.
    const calls: { path: string; body: unknown }[] = [];
    const fake = (verify: VerifyOutcome, settle: SettleOutcome = { ok: false }): FacilitatorClient => ({
      verify: async (body) => (calls.push({ path: "/verify", body }), verify),
      settle: async (body) => (calls.push({ path: "/settle", body }), settle),
    });
    const result = await runInDurableObject(stub, (m: TenantMeter) =>
      m.reconcilePending(T0 + 10 * SECOND, fake({ ok: true, isValid: false, invalidReason: "invalid_exact_evm_nonce_already_used" })),
    );
    expect(result).toEqual({ attempted: 1, actions: { commit: 1 } });
    expect(calls).toEqual([{ path: "/verify", body: { x402Version: 2, paymentPayload: payload, paymentRequirements: { scheme: "exact", amount: "1000" } } }]);
    expect(await stub.paymentStatus(p.id)).toMatchObject({ status: "settled", transaction: "0xbroadcast" });
    expect((await stub.spend(T0)).daily).toEqual({ settled: "1000", reserved: "0" });
    const replay = refused(await admitPaid(stub, p));
    expect(replay).toMatchObject({ code: "payment_replayed", transaction: "0xbroadcast" });
    if (replay.code !== "payment_replayed") throw new Error("unreachable");
    expect(JSON.parse(atob(replay.stored.bodyBase64!))).toEqual({ settled: true, transaction: "0xbroadcast" });
    await stub.flushOutbox();
    expect((await ledgerRows(slug)).map((r) => r.tx_hash)).toEqual(["0xbroadcast"]);
  });

  it("reconciliation settles a still-valid payment, retries when unreachable, holds what it cannot know", async () => {
    const { stub, slug } = await configured({}, "reconcile");
    const retryMaterial = { paymentPayload: { x402Version: 2 }, paymentRequirements: { scheme: "exact" } };
    const [valid, unreachable, expired, unused] = [claim(), claim(), claim({ validBefore: T0 / 1000 - 600 }), claim({ validBefore: T0 / 1000 - 600 })];
    for (const p of [valid, unreachable, expired, unused]) {
      expect((await admitPaid(stub, p)).ok).toBe(true);
      await stub.markPending(p.id, retryMaterial);
    }
    const client = (id: string): [VerifyOutcome, SettleOutcome] => {
      if (id === valid.id) return [{ ok: true, isValid: true }, { ok: true, success: true, transaction: "0xsettled" }];
      if (id === expired.id) return [{ ok: true, isValid: false, invalidReason: "invalid_exact_evm_payload_authorization_valid_before" }, { ok: false }];
      if (id === unused.id) return [{ ok: true, isValid: false, invalidReason: "invalid_exact_evm_insufficient_balance" }, { ok: false }];
      return [{ ok: false }, { ok: false }];
    };
    // Which payment a call is about is not in the body here, so reconcile one at a time.
    for (const p of [valid, unreachable, expired, unused]) {
      const [verify, settle] = client(p.id);
      await runInDurableObject(stub, async (m: TenantMeter, state) => {
        // Only this payment is due: push the others' next attempt far out.
        state.storage.sql.exec("UPDATE payments SET due_at = CASE WHEN id = ? THEN 0 ELSE 9e15 END WHERE status = 'settlement_pending' AND due_at IS NOT NULL", p.id);
        return m.reconcilePending(T0, { verify: async () => verify, settle: async () => settle });
      });
    }
    expect(await stub.paymentStatus(valid.id)).toMatchObject({ status: "settled", transaction: "0xsettled" });
    const retrying = await stub.paymentStatus(unreachable.id);
    expect(retrying).toMatchObject({ status: "settlement_pending", attempts: 1, unresolved: false });
    expect(retrying!.nextAttemptAt).toBeGreaterThan(Date.now());
    expect(await stub.paymentStatus(expired.id)).toMatchObject({ status: "settlement_pending", unresolved: true, nextAttemptAt: null });
    expect(await stub.paymentStatus(unused.id)).toBeNull();
    expect((await stub.spend(T0)).daily).toEqual({ settled: "1000", reserved: "2000" });

    // The operator checked the chain: the held one never happened.
    await stub.release(expired.id, { includePending: true });
    expect(await stub.paymentStatus(expired.id)).toBeNull();
    await stub.flushOutbox();
    expect((await ledgerRows(slug)).map((r) => r.payment_id)).toEqual([valid.id]);
  });

  it("a facilitator client that throws counts as unreachable (retry), and bad retry material is held", async () => {
    const { stub } = await configured();
    const p = claim();
    expect((await admitPaid(stub, p)).ok).toBe(true);
    await stub.markPending(p.id, { paymentPayload: { x402Version: 2 }, paymentRequirements: {} });
    const thrower: FacilitatorClient = {
      verify: async () => {
        throw new Error("boom");
      },
      settle: async () => ({ ok: false }),
    };
    expect(await runInDurableObject(stub, (m: TenantMeter) => m.reconcilePending(T0, thrower))).toEqual({ attempted: 1, actions: { retry: 1 } });
    await runInDurableObject(stub, (_m, state) => state.storage.sql.exec("UPDATE payments SET retry = 'not json', due_at = 0 WHERE id = ?", p.id));
    expect(await runInDurableObject(stub, (m: TenantMeter) => m.reconcilePending(T0, thrower))).toEqual({ attempted: 1, actions: { hold: 1 } });
    expect(await stub.paymentStatus(p.id)).toMatchObject({ status: "settlement_pending", unresolved: true });
  });

  it("the HTTP facilitator client posts JSON with a timeout and treats failures as unreachable", async () => {
    const seen: { url: string; method: string; body: unknown; signal: boolean }[] = [];
    const replies: (Response | Error)[] = [
      Response.json({ isValid: true, payer: PAYER_A }),
      Response.json({ success: true, transaction: "0xt", network: NETWORK }),
      new Response("busy", { status: 503 }),
      new Error("connection refused"),
      new Response("not json", { status: 200 }),
    ];
    const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push({ url: String(input), method: init?.method ?? "GET", body: JSON.parse(String(init?.body)), signal: init?.signal instanceof AbortSignal });
      const next = replies.shift()!;
      if (next instanceof Error) throw next;
      return next;
    }) as typeof fetch;
    const client = httpFacilitator("http://facilitator.test/", fetchImpl);
    expect(await client.verify({ a: 1 })).toEqual({ ok: true, isValid: true });
    expect(await client.settle({ a: 1 })).toEqual({ ok: true, success: true, transaction: "0xt" });
    expect(await client.verify({})).toEqual({ ok: false });
    expect(await client.verify({})).toEqual({ ok: false });
    expect(await client.settle({})).toEqual({ ok: false });
    expect(seen.slice(0, 2)).toEqual([
      { url: "http://facilitator.test/verify", method: "POST", body: { a: 1 }, signal: true },
      { url: "http://facilitator.test/settle", method: "POST", body: { a: 1 }, signal: true },
    ]);
  });
});

// ───────────── Orphaned in-flight payments (the dispatcher commits in waitUntil) ─────────────

/** What the dispatcher stores at admit. The payload names the payment so a fake facilitator can tell calls apart. */
function retryFor(p: PaymentClaim) {
  return { paymentPayload: { x402Version: 2, payload: { authorization: { nonce: p.id } } }, paymentRequirements: { scheme: "exact", amount: p.amountAtomic } };
}

function admitWithRetry(stub: Meter, p: PaymentClaim, extra: Partial<PaidAdmitRequest> = {}): Promise<Outcome> {
  return admitPaid(stub, p, { retry: retryFor(p), ...extra });
}

const USED: VerifyOutcome = { ok: true, isValid: false, invalidReason: "invalid_exact_evm_nonce_already_used" };
const UNUSED: VerifyOutcome = { ok: true, isValid: true };
const UNREACHABLE: VerifyOutcome = { ok: false };
const EXPIRED: VerifyOutcome = { ok: true, isValid: false, invalidReason: "invalid_exact_evm_payload_authorization_valid_before" };

/** A facilitator that answers /verify per payment and records what it was asked; /settle must never be called for an orphan. */
function fakeFacilitator(answer: (paymentId: string) => VerifyOutcome, calls: string[] = []): FacilitatorClient {
  return {
    verify: async (body) => {
      const id = (body as { paymentPayload: { payload: { authorization: { nonce: string } } } }).paymentPayload.payload.authorization.nonce;
      calls.push(`verify ${id}`);
      return answer(id);
    },
    settle: async () => {
      calls.push("settle");
      return { ok: false };
    },
  };
}

function reconcileAt(stub: Meter, now: number, client: FacilitatorClient) {
  return runInDurableObject(stub, (m: TenantMeter) => m.reconcilePending(now, client));
}

async function flushedLedger(stub: Meter, slug: string) {
  expect((await stub.flushOutbox()).remaining).toBe(0);
  return ledgerRows(slug);
}

describe("payments: orphaned in-flight payments are reconciled, never released blind (DESIGN §9.2, §9.4)", () => {
  it("an isolate that died after /settle: the orphan check sees the used nonce, commits, and the ledger gets exactly one row", async () => {
    const { stub, slug } = await configured({ spendCapsAtomic: { daily: "5000" } }, "orphan-settled");
    const p = claim();
    const admitted = paidRequest(p, { retry: retryFor(p) });
    expect((await stub.admitPaid(admitted)).ok).toBe(true);
    expect(await stub.paymentStatus(p.id)).toMatchObject({ status: "in_flight", hasRetryMaterial: true, attempts: 0, nextAttemptAt: T0 + 40 * SECOND });
    // The alarm is set for the check (a fresh object has nothing earlier to do).
    expect(await runInDurableObject(stub, (_m, state) => state.storage.getAlarm())).toBe(T0 + 40 * SECOND);
    // The dispatcher's isolate is gone, its commit never arrives; the meter restarts too.
    await evictDurableObject(stub);

    const calls: string[] = [];
    const facilitator = fakeFacilitator(() => USED, calls);
    expect(await reconcileAt(stub, T0 + 39 * SECOND, facilitator)).toEqual({ attempted: 0, actions: {} }); // not due yet: the dispatcher may still be at work
    expect(calls).toEqual([]);
    expect(await reconcileAt(stub, T0 + 40 * SECOND, facilitator)).toEqual({ attempted: 1, actions: { commit: 1 } });
    expect(calls).toEqual([`verify ${p.id}`]); // asked with the stored material, never settled by us

    expect(await stub.paymentStatus(p.id)).toMatchObject({ status: "settled", transaction: null, hasStoredResponse: true, hasRetryMaterial: false });
    expect((await stub.spend(T0)).daily).toEqual({ settled: "1000", reserved: "0" });
    const replay = refused(await admitWithRetry(stub, p));
    expect(replay).toMatchObject({ code: "payment_replayed", transaction: null });
    if (replay.code !== "payment_replayed") throw new Error("unreachable");
    expect(JSON.parse(atob(replay.stored.bodyBase64!))).toEqual({ settled: true, transaction: null });

    // Exactly once: checking again, a late commit from the dispatcher after all, flushing again.
    expect(await reconcileAt(stub, T0 + DAY, facilitator)).toEqual({ attempted: 0, actions: {} });
    expect(await stub.commit(p.id, { transaction: "0xlate", network: NETWORK, payer: p.payer }, response(), { requestId: admitted.requestId, settledAt: T0 }, { payment: p, reservedAt: T0, requestId: admitted.requestId })).toBe(
      "already_settled",
    );
    const rows = await flushedLedger(stub, slug);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ payment_id: p.id, tx_hash: null, request_id: admitted.requestId, payer: p.payer, amount_atomic: "1000" });
    expect(await auditCount(slug)).toBe(1);
    expect(await stub.flushOutbox()).toEqual({ flushed: 0, remaining: 0 });
    expect(await flushedLedger(stub, slug)).toHaveLength(1);
  });

  it("an isolate that died before settling: the facilitator says unused → released, never charged, no ledger row; the payment can be presented again", async () => {
    const { stub, slug } = await configured({ spendCapsAtomic: { daily: "1000" } }, "orphan-unused");
    const p = claim();
    expect((await admitWithRetry(stub, p, { idempotencyKey: "order-1" })).ok).toBe(true);
    expect(refused(await admitWithRetry(stub, claim())).code).toBe("spend_cap_exceeded");
    const calls: string[] = [];
    expect(await reconcileAt(stub, T0 + 40 * SECOND, fakeFacilitator(() => UNUSED, calls))).toEqual({ attempted: 1, actions: { release: 1 } });
    expect(calls).toEqual([`verify ${p.id}`]); // no settle: content was never sent, so nothing is charged
    expect(await stub.paymentStatus(p.id)).toBeNull();
    expect((await stub.spend(T0)).daily).toEqual({ settled: "0", reserved: "0" });
    // The same signed payment (and its key) can be presented again.
    expect((await admitWithRetry(stub, p, { idempotencyKey: "order-1", now: T0 + 41 * SECOND })).ok).toBe(true);
    await stub.release(p.id);
    expect(await flushedLedger(stub, slug)).toEqual([]);
    expect(await sqlCount(stub, "SELECT COUNT(*) AS n FROM outbox")).toBe(0);
  });

  it("facilitator unreachable: stays reserved (duplicates get 409), retried before the last chance, then resolved", async () => {
    const { stub, slug } = await configured({}, "orphan-unreachable");
    const p = claim({ validBefore: T0 / 1000 + 60 }); // a standard x402 authorization: 60 s
    expect((await admitWithRetry(stub, p)).ok).toBe(true);
    expect(await reconcileAt(stub, T0 + 40 * SECOND, fakeFacilitator(() => UNREACHABLE))).toEqual({ attempted: 1, actions: { retry: 1 } });
    const waiting = await stub.paymentStatus(p.id);
    expect(waiting).toMatchObject({ status: "in_flight", attempts: 1, unresolved: false });
    expect(waiting!.nextAttemptAt).toBeGreaterThan(Date.now()); // backoff on the real clock
    expect((await stub.spend(T0)).daily).toEqual({ settled: "0", reserved: "1000" });
    expect(refused(await admitWithRetry(stub, p))).toMatchObject({ code: "payment_in_flight", status: 409 });
    // Housekeeping never releases it blind, however late.
    expect(await runInDurableObject(stub, (m: TenantMeter) => m.releaseStale(T0 + DAY))).toBe(0);
    await runInDurableObject(stub, (m: TenantMeter) => m.housekeep(T0 + DAY));
    expect(await stub.paymentStatus(p.id)).toMatchObject({ status: "in_flight" });
    // Still unreachable a few times, then it answers (before validBefore): the transfer happened.
    expect(await reconcileAt(stub, T0 + 45 * SECOND, fakeFacilitator(() => UNREACHABLE))).toEqual({ attempted: 1, actions: { retry: 1 } });
    expect(await reconcileAt(stub, T0 + 50 * SECOND, fakeFacilitator(() => USED))).toEqual({ attempted: 1, actions: { commit: 1 } });
    expect(await stub.paymentStatus(p.id)).toMatchObject({ status: "settled", attempts: 2 });
    expect((await flushedLedger(stub, slug)).map((r) => r.payment_id)).toEqual([p.id]);
  });

  it("retries never skip the last chance before validBefore", async () => {
    const { stub } = await configured({}, "orphan-lastchance");
    // Signed long before it was sent: validBefore is 30 s after the admit, so the check comes at its last chance.
    const realNow = Date.now();
    const p = claim({ validBefore: Math.floor(realNow / 1000) + 30 });
    expect((await admitWithRetry(stub, p, { now: realNow })).ok).toBe(true);
    expect((await stub.paymentStatus(p.id))!.nextAttemptAt).toBe(p.validBefore * 1000 - 10 * SECOND);
    // After a failed attempt at the last chance's doorstep, the next one is not pushed past validBefore.
    await runInDurableObject(stub, (_m, state) => state.storage.sql.exec("UPDATE payments SET due_at = 0 WHERE id = ?", p.id));
    expect(await reconcileAt(stub, realNow, fakeFacilitator(() => UNREACHABLE))).toEqual({ attempted: 1, actions: { retry: 1 } });
    expect((await stub.paymentStatus(p.id))!.nextAttemptAt).toBeLessThanOrEqual(p.validBefore * 1000 - 10 * SECOND);
  });

  it("expired while still unknown: held as an unresolved settlement_pending record, never released blind", async () => {
    const { stub, slug } = await configured({ spendCapsAtomic: { daily: "1000" } }, "orphan-expired");
    const p = claim({ validBefore: T0 / 1000 + 60 });
    const admitted = paidRequest(p, { retry: retryFor(p) });
    expect((await stub.admitPaid(admitted)).ok).toBe(true);
    expect(await reconcileAt(stub, T0 + 40 * SECOND, fakeFacilitator(() => UNREACHABLE))).toEqual({ attempted: 1, actions: { retry: 1 } });
    // It answers only after validBefore, when x402's verify reports expiry before it looks at the nonce.
    expect(await reconcileAt(stub, T0 + 70 * SECOND, fakeFacilitator(() => EXPIRED))).toEqual({ attempted: 1, actions: { retry: 1 } }); // within our clock-skew grace
    expect(await reconcileAt(stub, T0 + 121 * SECOND, fakeFacilitator(() => EXPIRED))).toEqual({ attempted: 1, actions: { hold: 1 } });
    expect(await stub.paymentStatus(p.id)).toMatchObject({ status: "settlement_pending", unresolved: true, nextAttemptAt: null, attempts: 3 });
    expect((await stub.spend(T0)).daily).toEqual({ settled: "0", reserved: "1000" }); // the reservation stays in its window
    expect(await reconcileAt(stub, T0 + DAY, fakeFacilitator(() => USED))).toEqual({ attempted: 0, actions: {} }); // no more automatic attempts
    expect(await runInDurableObject(stub, (m: TenantMeter) => m.releaseStale(T0 + 30 * DAY))).toBe(0);
    await stub.release(p.id, { requestId: admitted.requestId }); // a dispatcher's release does not touch it
    expect(refused(await admitWithRetry(stub, p))).toMatchObject({ code: "payment_in_flight", headers: { "Retry-After": "5" } });
    // The operator checked the chain: it did settle.
    expect(await stub.commit(p.id, { transaction: "0xfound", network: NETWORK, payer: p.payer }, response(), { requestId: admitted.requestId, settledAt: T0 + 30 * SECOND })).toBe("committed");
    expect((await flushedLedger(stub, slug)).map((r) => r.tx_hash)).toEqual(["0xfound"]);
  });

  it("a live but slow dispatcher whose payment was released as orphaned still gets its settlement into the ledger (late commit)", async () => {
    const { stub, slug } = await configured({ spendCapsAtomic: { daily: "2000" } }, "orphan-late");
    const p = claim();
    const q = claim();
    const first = paidRequest(p, { retry: retryFor(p) });
    expect((await stub.admitPaid(first)).ok).toBe(true);
    expect((await admitWithRetry(stub, q)).ok).toBe(true);
    // The check runs while the dispatcher's settle is still on its way: unused → released.
    expect(await reconcileAt(stub, T0 + 40 * SECOND, fakeFacilitator((id) => (id === p.id ? UNUSED : UNREACHABLE)))).toEqual({
      attempted: 2,
      actions: { release: 1, retry: 1 },
    });
    expect(await stub.paymentStatus(p.id)).toBeNull();
    // The settle then lands and the dispatcher commits what it admitted.
    const settlement = { transaction: "0xslow", network: NETWORK, payer: p.payer };
    const ledgerInput = { requestId: first.requestId, settledAt: T0 + 42 * SECOND };
    expect(await stub.commit(p.id, settlement, response(), ledgerInput)).toBe("unknown_payment"); // without what it admitted: nothing to recreate
    expect(await stub.commit(p.id, settlement, response(), ledgerInput, { payment: q, reservedAt: T0, requestId: first.requestId })).toBe("unknown_payment"); // another payment's claim
    expect(await stub.commit(p.id, settlement, response(), ledgerInput, { payment: p, reservedAt: T0, requestId: first.requestId })).toBe("committed_late");
    expect(await stub.commit(p.id, settlement, response(), ledgerInput, { payment: p, reservedAt: T0, requestId: first.requestId })).toBe("already_settled");
    expect(await stub.paymentStatus(p.id)).toMatchObject({ status: "settled", transaction: "0xslow", settledAt: T0 + 42 * SECOND, reservedAt: T0 });
    // Settled spend counts it once; q's reservation was not taken to pay for it.
    expect((await stub.spend(T0)).daily).toEqual({ settled: "1000", reserved: "1000" });
    expect(refused(await admitWithRetry(stub, p))).toMatchObject({ code: "payment_replayed", transaction: "0xslow", stored: response() });
    const rows = await flushedLedger(stub, slug);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ payment_id: p.id, tx_hash: "0xslow", request_id: first.requestId, settled_at: T0 + 42 * SECOND });
  });

  it("after an orphan release, a duplicate may be admitted again; the first dispatcher's commit settles it and the duplicate's release cannot undo it", async () => {
    const { stub, slug } = await configured({}, "orphan-dup");
    const p = claim();
    const first = paidRequest(p, { retry: retryFor(p) });
    expect((await stub.admitPaid(first)).ok).toBe(true);
    await reconcileAt(stub, T0 + 40 * SECOND, fakeFacilitator(() => UNUSED));
    const second = paidRequest(p, { retry: retryFor(p), now: T0 + 41 * SECOND });
    expect((await stub.admitPaid(second)).ok).toBe(true);
    // The first request's own cleanup must not delete the second request's admission ...
    await stub.release(p.id, { requestId: first.requestId });
    expect(await stub.paymentStatus(p.id)).toMatchObject({ status: "in_flight", requestId: second.requestId });
    // ... its settle went through after all: its commit settles the record the second one holds.
    expect(await stub.commit(p.id, { transaction: "0xfirst", network: NETWORK, payer: p.payer }, response(), { requestId: first.requestId, settledAt: T0 + 42 * SECOND }, { payment: p, reservedAt: T0, requestId: first.requestId })).toBe(
      "committed",
    );
    // The second one's settle fails (nonce used) and it releases: a no-op on a settled record.
    await stub.release(p.id, { requestId: second.requestId });
    expect(await stub.paymentStatus(p.id)).toMatchObject({ status: "settled", transaction: "0xfirst" });
    expect((await stub.spend(T0)).daily).toEqual({ settled: "1000", reserved: "0" });
    expect((await flushedLedger(stub, slug)).map((r) => r.request_id)).toEqual([first.requestId]);
  });

  it("a slow dispatcher whose settle timed out after its payment was released as orphaned reserves it again as pending (late markPending)", async () => {
    const { stub, slug } = await configured({ spendCapsAtomic: { daily: "1000" } }, "orphan-late-pending");
    const p = claim();
    const first = paidRequest(p, { retry: retryFor(p) });
    expect((await stub.admitPaid(first)).ok).toBe(true);
    await reconcileAt(stub, T0 + 40 * SECOND, fakeFacilitator(() => UNUSED));
    expect((await stub.spend(T0)).daily).toEqual({ settled: "0", reserved: "0" });
    // Its /settle timed out (the transfer may still land): without what it admitted, nothing to do ...
    await stub.markPending(p.id, retryFor(p));
    expect(await stub.paymentStatus(p.id)).toBeNull();
    // ... with it, the payment is reserved again and reconciled like any pending settlement.
    await stub.markPending(p.id, { ...retryFor(p), transaction: "0xbroadcast" }, { payment: p, reservedAt: T0, requestId: first.requestId });
    expect(await stub.paymentStatus(p.id)).toMatchObject({ status: "settlement_pending", requestId: first.requestId, transaction: "0xbroadcast", hasRetryMaterial: true, reservedAt: T0 });
    expect((await stub.spend(T0)).daily).toEqual({ settled: "0", reserved: "1000" });
    await runInDurableObject(stub, (_m, state) => state.storage.sql.exec("UPDATE payments SET due_at = 0 WHERE id = ?", p.id));
    expect(await reconcileAt(stub, T0 + 45 * SECOND, fakeFacilitator(() => USED))).toEqual({ attempted: 1, actions: { commit: 1 } });
    expect((await stub.spend(T0)).daily).toEqual({ settled: "1000", reserved: "0" });
    expect((await flushedLedger(stub, slug)).map((r) => [r.tx_hash, r.request_id])).toEqual([["0xbroadcast", first.requestId]]);
  });

  it("a commit that lands while the facilitator is being asked wins; the check's answer is dropped", async () => {
    const { stub, slug } = await configured({}, "orphan-race");
    const p = claim();
    const admitted = paidRequest(p, { retry: retryFor(p) });
    expect((await stub.admitPaid(admitted)).ok).toBe(true);
    const result = await runInDurableObject(stub, (m: TenantMeter) =>
      m.reconcilePending(T0 + 40 * SECOND, {
        verify: async () => {
          // The dispatcher's commit arrives while /verify is in flight (its tx not yet mined: "unused").
          expect(m.commit(p.id, { transaction: "0xraced", network: NETWORK, payer: p.payer }, response(), { requestId: admitted.requestId, settledAt: T0 + SECOND })).toBe("committed");
          return UNUSED;
        },
        settle: async () => ({ ok: false }),
      }),
    );
    expect(result).toEqual({ attempted: 1, actions: { release: 1 } }); // decided, but not applied
    expect(await stub.paymentStatus(p.id)).toMatchObject({ status: "settled", transaction: "0xraced" });
    expect((await stub.spend(T0)).daily).toEqual({ settled: "1000", reserved: "0" });
    expect((await flushedLedger(stub, slug)).map((r) => r.tx_hash)).toEqual(["0xraced"]);
  });

  it("the alarm runs the checks; without a facilitator an orphan waits instead of being released blind", async () => {
    const { stub } = await configured({}, "orphan-alarm");
    const realNow = Date.now();
    // Both admitted 3 minutes ago and expired a minute ago: the old rule releases the one without material.
    const blind = claim({ validBefore: Math.floor(realNow / 1000) - 60 });
    const orphan = claim({ validBefore: Math.floor(realNow / 1000) - 60 });
    expect((await admitPaid(stub, blind, { now: realNow - 180 * SECOND })).ok).toBe(true);
    expect((await admitWithRetry(stub, orphan, { now: realNow - 180 * SECOND })).ok).toBe(true);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.paymentStatus(blind.id)).toBeNull();
    expect(await stub.paymentStatus(orphan.id)).toMatchObject({ status: "in_flight", attempts: 0 });
    // No FACILITATOR_URL in this test environment: looked at again in 5 minutes, not in a tight loop.
    expect(await runInDurableObject(stub, (_m, state) => state.storage.getAlarm())).toBeGreaterThanOrEqual(realNow + 4 * 60 * SECOND);
  });
});

describe("payments: bad input never corrupts (DESIGN §9.6)", () => {
  it("commit, release and markPending of unknown ids are no-ops", async () => {
    const { stub } = await configured();
    const p = claim();
    expect((await admitPaid(stub, p)).ok).toBe(true);
    expect(await stub.commit("nope", { transaction: "0x1", network: NETWORK, payer: PAYER_A }, response(), { requestId: "r", settledAt: T0 })).toBe("unknown_payment");
    await stub.release("nope");
    await stub.markPending("nope", { paymentPayload: {}, paymentRequirements: {} });
    expect(await stub.paymentStatus("nope")).toBeNull();
    expect(await runInDurableObject(stub, (m: TenantMeter) => m.commit(42 as unknown as string, null as never, null as never, null as never))).toBe("unknown_payment");
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
    for (const [what, req] of bad) expect(await thrownInside(stub, (m) => m.admitPaid(req))).toMatch(new RegExp(`^TypeError: invalid PaidAdmitRequest: ${what}`));
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
    expect(await thrownInside(stub, (m) => m.markPending(good.payment.id, { paymentPayload: undefined, paymentRequirements: {} }))).toMatch(/^TypeError/);
    expect(await thrownInside(stub, (m) => m.markPending(good.payment.id, { paymentPayload: { big: "x".repeat(70_000) }, paymentRequirements: {} }))).toMatch(/larger/);
    expect(await stub.paymentStatus(good.payment.id)).toMatchObject({ status: "in_flight" });
  });

  it("a config with invalid spend caps is rejected", async () => {
    const { stub, slug } = await configured({ spendCapsAtomic: { daily: "1000" } });
    expect(await thrownInside(stub, (m) => m.configure(cfg(slug, { version: 2, spendCapsAtomic: { daily: "10.5" } })))).toMatch(/spendCapsAtomic\.daily/);
    expect((await admitPaid(stub, claim())).headers["X-Spend-Daily-Limit"]).toBe("1000");
  });
});
