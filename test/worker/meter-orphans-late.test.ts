// TenantMeter orphans in workerd: late commit/markPending by slow dispatchers, check races, the alarm
// (docs/ARCHITECTURE.md §9.2, §9.4).

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TenantMeter } from "../../objects/meter/tenant-meter.ts";
import {
  T0,
  SECOND,
  NETWORK,
  configured,
  claim,
  paidRequest,
  admitPaid,
  refused,
  response,
  retryFor,
  admitWithRetry,
  USED,
  UNUSED,
  UNREACHABLE,
  fakeFacilitator,
  reconcileAt,
  flushedLedger,
  scripted,
} from "./meter-payment-helpers.ts";

describe("payments: orphaned in-flight payments are reconciled, never released blind (ARCHITECTURE §9.2, §9.4)", () => {
  it("a live but slow dispatcher whose payment was released as orphaned still gets its settlement into the ledger (late commit)", async () => {
    const { stub, slug } = await configured({ spendCapsAtomic: { daily: "2000" } }, "orphan-late");
    const p = claim();
    const q = claim();
    const first = paidRequest(p, { retry: retryFor(p) });
    expect((await stub.admitPaid(first)).ok).toBe(true);
    expect((await admitWithRetry(stub, q)).ok).toBe(true);
    // The check runs while the dispatcher's settle is still on its way: unused → released.
    expect(
      await reconcileAt(
        stub,
        T0 + 40 * SECOND,
        fakeFacilitator((id) => (id === p.id ? UNUSED : UNREACHABLE)),
      ),
    ).toEqual({
      attempted: 2,
      actions: { release: 1, retry: 1 },
    });
    expect(await stub.paymentStatus(p.id)).toBeNull();
    // The settle then lands and the dispatcher commits what it admitted.
    const settlement = { transaction: "0xslow", network: NETWORK, payer: p.payer };
    const ledgerInput = { requestId: first.requestId, settledAt: T0 + 42 * SECOND };
    expect(await stub.commit(p.id, settlement, response(), ledgerInput)).toBe("unknown_payment"); // without what it admitted: nothing to recreate
    expect(
      await stub.commit(p.id, settlement, response(), ledgerInput, {
        payment: q,
        reservedAt: T0,
        requestId: first.requestId,
      }),
    ).toBe("unknown_payment"); // another payment's claim
    expect(
      await stub.commit(p.id, settlement, response(), ledgerInput, {
        payment: p,
        reservedAt: T0,
        requestId: first.requestId,
      }),
    ).toBe("committed_late");
    expect(
      await stub.commit(p.id, settlement, response(), ledgerInput, {
        payment: p,
        reservedAt: T0,
        requestId: first.requestId,
      }),
    ).toBe("already_settled");
    expect(await stub.paymentStatus(p.id)).toMatchObject({
      status: "settled",
      transaction: "0xslow",
      settledAt: T0 + 42 * SECOND,
      reservedAt: T0,
    });
    // Settled spend counts it once; q's reservation was not taken to pay for it.
    expect((await stub.spend(T0)).daily).toEqual({ settled: "1000", reserved: "1000" });
    expect(refused(await admitWithRetry(stub, p))).toMatchObject({
      code: "payment_replayed",
      transaction: "0xslow",
      stored: response(),
    });
    const rows = await flushedLedger(stub, slug);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      payment_id: p.id,
      tx_hash: "0xslow",
      request_id: first.requestId,
      settled_at: T0 + 42 * SECOND,
    });
  });

  it("after an orphan release, a duplicate may be admitted again; the first dispatcher's commit settles it and the duplicate's release cannot undo it", async () => {
    const { stub, slug } = await configured({}, "orphan-dup");
    const p = claim();
    const first = paidRequest(p, { retry: retryFor(p) });
    expect((await stub.admitPaid(first)).ok).toBe(true);
    await reconcileAt(
      stub,
      T0 + 40 * SECOND,
      fakeFacilitator(() => UNUSED),
    );
    const second = paidRequest(p, { retry: retryFor(p), now: T0 + 41 * SECOND });
    expect((await stub.admitPaid(second)).ok).toBe(true);
    // The first request's own cleanup must not delete the second request's admission ...
    await stub.release(p.id, { requestId: first.requestId });
    expect(await stub.paymentStatus(p.id)).toMatchObject({ status: "in_flight", requestId: second.requestId });
    // ... its settle went through after all: its commit settles the record the second one holds.
    expect(
      await stub.commit(
        p.id,
        { transaction: "0xfirst", network: NETWORK, payer: p.payer },
        response(),
        { requestId: first.requestId, settledAt: T0 + 42 * SECOND },
        { payment: p, reservedAt: T0, requestId: first.requestId },
      ),
    ).toBe("committed");
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
    await reconcileAt(
      stub,
      T0 + 40 * SECOND,
      fakeFacilitator(() => UNUSED),
    );
    expect((await stub.spend(T0)).daily).toEqual({ settled: "0", reserved: "0" });
    // Its /settle timed out (the transfer may still land): without what it admitted, nothing to do ...
    await stub.markPending(p.id, retryFor(p));
    expect(await stub.paymentStatus(p.id)).toBeNull();
    // ... with it, the payment is reserved again and reconciled like any pending settlement.
    await stub.markPending(
      p.id,
      { ...retryFor(p), transaction: "0xbroadcast" },
      { payment: p, reservedAt: T0, requestId: first.requestId },
    );
    expect(await stub.paymentStatus(p.id)).toMatchObject({
      status: "settlement_pending",
      requestId: first.requestId,
      transaction: "0xbroadcast",
      hasRetryMaterial: true,
      reservedAt: T0,
    });
    expect((await stub.spend(T0)).daily).toEqual({ settled: "0", reserved: "1000" });
    await runInDurableObject(stub, (_m, state) =>
      state.storage.sql.exec("UPDATE payments SET due_at = 0 WHERE id = ?", p.id),
    );
    expect(
      await reconcileAt(
        stub,
        T0 + 45 * SECOND,
        fakeFacilitator(() => USED),
      ),
    ).toEqual({ attempted: 1, actions: { commit: 1 } });
    expect((await stub.spend(T0)).daily).toEqual({ settled: "1000", reserved: "0" });
    expect((await flushedLedger(stub, slug)).map((r) => [r.tx_hash, r.request_id])).toEqual([
      ["0xbroadcast", first.requestId],
    ]);
  });

  it("a commit that lands while the facilitator is being asked wins; the check's answer is dropped", async () => {
    const { stub, slug } = await configured({}, "orphan-race");
    const p = claim();
    const admitted = paidRequest(p, { retry: retryFor(p) });
    expect((await stub.admitPaid(admitted)).ok).toBe(true);
    const result = await runInDurableObject(stub, (m: TenantMeter) =>
      m.reconcilePending(
        T0 + 40 * SECOND,
        scripted(
          async () => {
            // The dispatcher's commit arrives while /verify is in flight (its tx not yet mined: "unused").
            expect(
              m.commit(p.id, { transaction: "0xraced", network: NETWORK, payer: p.payer }, response(), {
                requestId: admitted.requestId,
                settledAt: T0 + SECOND,
              }),
            ).toBe("committed");
            return UNUSED;
          },
          async () => ({ ok: false }),
        ),
      ),
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
    expect(await runInDurableObject(stub, (_m, state) => state.storage.getAlarm())).toBeGreaterThanOrEqual(
      realNow + 4 * 60 * SECOND,
    );
  });
});
