// TenantMeter orphaned in-flight payments in workerd (real DOs, D1): an isolate dying between response and
// commit leaves one; the facilitator decides settled/unused/unknown (docs/ARCHITECTURE.md §9.2, §9.4).

import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TenantMeter } from "../../objects/meter/tenant-meter.ts";
import {
  T0,
  SECOND,
  DAY,
  NETWORK,
  configured,
  claim,
  paidRequest,
  refused,
  response,
  sqlCount,
  auditCount,
  retryFor,
  admitWithRetry,
  USED,
  UNUSED,
  UNREACHABLE,
  EXPIRED,
  fakeFacilitator,
  reconcileAt,
  flushedLedger,
} from "./meter-payment-helpers.ts";

describe("payments: orphaned in-flight payments are reconciled, never released blind (ARCHITECTURE §9.2, §9.4)", () => {
  it("an isolate that died after /settle: the orphan check sees the used nonce, commits, and the ledger gets exactly one row", async () => {
    const { stub, slug } = await configured({ spendCapsAtomic: { daily: "5000" } }, "orphan-settled");
    const p = claim();
    const admitted = paidRequest(p, { retry: retryFor(p) });
    expect((await stub.admitPaid(admitted)).ok).toBe(true);
    expect(await stub.paymentStatus(p.id)).toMatchObject({
      status: "in_flight",
      hasRetryMaterial: true,
      attempts: 0,
      nextAttemptAt: T0 + 40 * SECOND,
    });
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

    expect(await stub.paymentStatus(p.id)).toMatchObject({
      status: "settled",
      transaction: null,
      hasStoredResponse: true,
      hasRetryMaterial: false,
    });
    expect((await stub.spend(T0)).daily).toEqual({ settled: "1000", reserved: "0" });
    const replay = refused(await admitWithRetry(stub, p));
    expect(replay).toMatchObject({ code: "payment_replayed", transaction: null });
    if (replay.code !== "payment_replayed") throw new Error("unreachable");
    expect(JSON.parse(atob(replay.stored.bodyBase64!))).toEqual({ settled: true, transaction: null });

    // Exactly once: checking again, a late commit from the dispatcher after all, flushing again.
    expect(await reconcileAt(stub, T0 + DAY, facilitator)).toEqual({ attempted: 0, actions: {} });
    expect(
      await stub.commit(
        p.id,
        { transaction: "0xlate", network: NETWORK, payer: p.payer },
        response(),
        { requestId: admitted.requestId, settledAt: T0 },
        { payment: p, reservedAt: T0, requestId: admitted.requestId },
      ),
    ).toBe("already_settled");
    const rows = await flushedLedger(stub, slug);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      payment_id: p.id,
      tx_hash: null,
      request_id: admitted.requestId,
      payer: p.payer,
      amount_atomic: "1000",
    });
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
    expect(
      await reconcileAt(
        stub,
        T0 + 40 * SECOND,
        fakeFacilitator(() => UNUSED, calls),
      ),
    ).toEqual({ attempted: 1, actions: { release: 1 } });
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
    expect(
      await reconcileAt(
        stub,
        T0 + 40 * SECOND,
        fakeFacilitator(() => UNREACHABLE),
      ),
    ).toEqual({ attempted: 1, actions: { retry: 1 } });
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
    expect(
      await reconcileAt(
        stub,
        T0 + 45 * SECOND,
        fakeFacilitator(() => UNREACHABLE),
      ),
    ).toEqual({ attempted: 1, actions: { retry: 1 } });
    expect(
      await reconcileAt(
        stub,
        T0 + 50 * SECOND,
        fakeFacilitator(() => USED),
      ),
    ).toEqual({ attempted: 1, actions: { commit: 1 } });
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
    await runInDurableObject(stub, (_m, state) =>
      state.storage.sql.exec("UPDATE payments SET due_at = 0 WHERE id = ?", p.id),
    );
    expect(
      await reconcileAt(
        stub,
        realNow,
        fakeFacilitator(() => UNREACHABLE),
      ),
    ).toEqual({ attempted: 1, actions: { retry: 1 } });
    expect((await stub.paymentStatus(p.id))!.nextAttemptAt).toBeLessThanOrEqual(p.validBefore * 1000 - 10 * SECOND);
  });

  it("expired while still unknown: held as an unresolved settlement_pending record, never released blind", async () => {
    const { stub, slug } = await configured({ spendCapsAtomic: { daily: "1000" } }, "orphan-expired");
    const p = claim({ validBefore: T0 / 1000 + 60 });
    const admitted = paidRequest(p, { retry: retryFor(p) });
    expect((await stub.admitPaid(admitted)).ok).toBe(true);
    expect(
      await reconcileAt(
        stub,
        T0 + 40 * SECOND,
        fakeFacilitator(() => UNREACHABLE),
      ),
    ).toEqual({ attempted: 1, actions: { retry: 1 } });
    // It answers only after validBefore, when x402's verify reports expiry before it looks at the nonce.
    expect(
      await reconcileAt(
        stub,
        T0 + 70 * SECOND,
        fakeFacilitator(() => EXPIRED),
      ),
    ).toEqual({ attempted: 1, actions: { retry: 1 } }); // within our clock-skew grace
    expect(
      await reconcileAt(
        stub,
        T0 + 121 * SECOND,
        fakeFacilitator(() => EXPIRED),
      ),
    ).toEqual({ attempted: 1, actions: { hold: 1 } });
    expect(await stub.paymentStatus(p.id)).toMatchObject({
      status: "settlement_pending",
      unresolved: true,
      nextAttemptAt: null,
      attempts: 3,
    });
    expect((await stub.spend(T0)).daily).toEqual({ settled: "0", reserved: "1000" }); // the reservation stays in its window
    expect(
      await reconcileAt(
        stub,
        T0 + DAY,
        fakeFacilitator(() => USED),
      ),
    ).toEqual({ attempted: 0, actions: {} }); // no more automatic attempts
    expect(await runInDurableObject(stub, (m: TenantMeter) => m.releaseStale(T0 + 30 * DAY))).toBe(0);
    await stub.release(p.id, { requestId: admitted.requestId }); // a dispatcher's release does not touch it
    expect(refused(await admitWithRetry(stub, p))).toMatchObject({
      code: "payment_in_flight",
      headers: { "Retry-After": "5" },
    });
    // The operator checked the chain: it did settle.
    expect(
      await stub.commit(p.id, { transaction: "0xfound", network: NETWORK, payer: p.payer }, response(), {
        requestId: admitted.requestId,
        settledAt: T0 + 30 * SECOND,
      }),
    ).toBe("committed");
    expect((await flushedLedger(stub, slug)).map((r) => r.tx_hash)).toEqual(["0xfound"]);
  });
});
