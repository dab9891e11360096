// TenantMeter stale reservations and pending settlements inside workerd with real Durable
// Objects and D1 (docs/ARCHITECTURE.md §4, §9.4): blind stale releases only without retry
// material, pending settlements reconciled with the facilitator, held when nobody can know.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  askSettle,
  askVerify,
  type SettleOutcome,
  type VerifyOutcome,
} from "../../objects/meter/reconcile-decision.ts";
import type { TenantMeter } from "../../objects/meter/tenant-meter.ts";
import { type Facilitator, facilitatorBody, httpFacilitator } from "../../src/x402/facilitator.ts";
import {
  T0,
  SECOND,
  DAY,
  NETWORK,
  PAYER_A,
  configured,
  claim,
  admitPaid,
  refused,
  ledgerRows,
  retryFor,
  scripted,
} from "./meter-payment-helpers.ts";

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
    await stub.markPending(p.id, {
      paymentPayload: payload,
      paymentRequirements: { scheme: "exact", amount: "1000" },
      transaction: "0xbroadcast",
    });
    await stub.release(p.id); // the dispatcher must not drop a pending settlement: no-op
    await evictDurableObject(stub);

    const status = await stub.paymentStatus(p.id);
    expect(status).toMatchObject({
      status: "settlement_pending",
      transaction: "0xbroadcast",
      attempts: 0,
      unresolved: false,
    });
    expect(status!.nextAttemptAt).toBeGreaterThan(Date.now() - 5000);
    const retry = refused(await admitPaid(stub, p));
    expect(retry).toMatchObject({ code: "payment_in_flight", status: 409, headers: { "Retry-After": "5" } });
    expect((await stub.spend(T0)).daily).toEqual({ settled: "0", reserved: "1000" });

    // The facilitator says the nonce is used: the transfer happened.
    const calls: { path: string; body: unknown }[] = [];
    const fake = (verify: VerifyOutcome, settle: SettleOutcome = { ok: false }): Facilitator =>
      scripted(
        (payload, requirements) => (
          calls.push({ path: "/verify", body: facilitatorBody(payload, requirements) }), verify
        ),
        (payload, requirements) => (
          calls.push({ path: "/settle", body: facilitatorBody(payload, requirements) }), settle
        ),
      );
    const result = await runInDurableObject(stub, (m: TenantMeter) =>
      m.reconcilePending(
        T0 + 10 * SECOND,
        fake({ ok: true, isValid: false, invalidReason: "invalid_exact_evm_nonce_already_used" }),
      ),
    );
    expect(result).toEqual({ attempted: 1, actions: { commit: 1 } });
    expect(calls).toEqual([
      {
        path: "/verify",
        body: { x402Version: 2, paymentPayload: payload, paymentRequirements: { scheme: "exact", amount: "1000" } },
      },
    ]);
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
    const [valid, unreachable, expired, unused] = [
      claim(),
      claim(),
      claim({ validBefore: T0 / 1000 - 600 }),
      claim({ validBefore: T0 / 1000 - 600 }),
    ];
    for (const p of [valid, unreachable, expired, unused]) {
      expect((await admitPaid(stub, p)).ok).toBe(true);
      await stub.markPending(p.id, retryMaterial);
    }
    const client = (id: string): [VerifyOutcome, SettleOutcome] => {
      if (id === valid.id)
        return [
          { ok: true, isValid: true },
          { ok: true, success: true, transaction: "0xsettled" },
        ];
      if (id === expired.id)
        return [
          { ok: true, isValid: false, invalidReason: "invalid_exact_evm_payload_authorization_valid_before" },
          { ok: false },
        ];
      if (id === unused.id)
        return [{ ok: true, isValid: false, invalidReason: "invalid_exact_evm_insufficient_balance" }, { ok: false }];
      return [{ ok: false }, { ok: false }];
    };
    // Which payment a call is about is not in the body here, so reconcile one at a time.
    for (const p of [valid, unreachable, expired, unused]) {
      const [verify, settle] = client(p.id);
      await runInDurableObject(stub, async (m: TenantMeter, state) => {
        // Only this payment is due: push the others' next attempt far out.
        state.storage.sql.exec(
          "UPDATE payments SET due_at = CASE WHEN id = ? THEN 0 ELSE 9e15 END WHERE status = 'settlement_pending' AND due_at IS NOT NULL",
          p.id,
        );
        return m.reconcilePending(
          T0,
          scripted(
            () => verify,
            () => settle,
          ),
        );
      });
    }
    expect(await stub.paymentStatus(valid.id)).toMatchObject({ status: "settled", transaction: "0xsettled" });
    const retrying = await stub.paymentStatus(unreachable.id);
    expect(retrying).toMatchObject({ status: "settlement_pending", attempts: 1, unresolved: false });
    expect(retrying!.nextAttemptAt).toBeGreaterThan(Date.now());
    expect(await stub.paymentStatus(expired.id)).toMatchObject({
      status: "settlement_pending",
      unresolved: true,
      nextAttemptAt: null,
    });
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
    const thrower: Facilitator = {
      verify: async () => {
        throw new Error("boom");
      },
      settle: async () => ({ success: false, transaction: "", network: "" }),
      supports: async () => true,
    };
    expect(await runInDurableObject(stub, (m: TenantMeter) => m.reconcilePending(T0, thrower))).toEqual({
      attempted: 1,
      actions: { retry: 1 },
    });
    await runInDurableObject(stub, (_m, state) =>
      state.storage.sql.exec("UPDATE payments SET retry = 'not json', due_at = 0 WHERE id = ?", p.id),
    );
    expect(await runInDurableObject(stub, (m: TenantMeter) => m.reconcilePending(T0, thrower))).toEqual({
      attempted: 1,
      actions: { hold: 1 },
    });
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
      seen.push({
        url: String(input),
        method: init?.method ?? "GET",
        body: JSON.parse(String(init?.body)),
        signal: init?.signal instanceof AbortSignal,
      });
      const next = replies.shift()!;
      if (next instanceof Error) throw next;
      return next;
    }) as typeof fetch;
    // The one client (src/x402/facilitator.ts), asked the way the reconciler asks it.
    const client = httpFacilitator("http://facilitator.test/", fetchImpl);
    const material = (paymentPayload: unknown) => ({ paymentPayload, paymentRequirements: { scheme: "exact" } });
    expect(await askVerify(client, material({ a: 1 }))).toEqual({ ok: true, isValid: true });
    expect(await askSettle(client, material({ a: 1 }))).toEqual({ ok: true, success: true, transaction: "0xt" });
    expect(await askVerify(client, material({}))).toEqual({ ok: false });
    expect(await askVerify(client, material({}))).toEqual({ ok: false });
    expect(await askSettle(client, material({}))).toEqual({ ok: false });
    expect(seen.slice(0, 2)).toEqual([
      {
        url: "http://facilitator.test/verify",
        method: "POST",
        body: { x402Version: 2, paymentPayload: { a: 1 }, paymentRequirements: { scheme: "exact" } },
        signal: true,
      },
      {
        url: "http://facilitator.test/settle",
        method: "POST",
        body: { x402Version: 2, paymentPayload: { a: 1 }, paymentRequirements: { scheme: "exact" } },
        signal: true,
      },
    ]);
  });
});
