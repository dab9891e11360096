// A payer who paid gets what was paid for (issue 9 item 1, docs/ARCHITECTURE.md §4): when /settle's
// outcome is unknown the tenant's response (bounded like stored replays) is kept with the pending
// record; once reconciliation knows the settlement, the payer's retry gets that response with the
// real transaction hash, and the ledger gets the row exactly once. A payment found never settled
// is released: the payer was not charged and the kept response is dropped.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TenantMeter } from "../../objects/meter/tenant-meter.ts";
import {
  admitWithRetry,
  BODY,
  claim,
  configured,
  EXPIRED,
  flushedLedger,
  paidRequest,
  reconcileAt,
  refused,
  response,
  retryFor,
  scripted,
  SECOND,
  T0,
  USED,
} from "./meter-payment-helpers.ts";

const CONTENT = response({ headers: { "content-type": "application/json", "x-tenant": "weather" } });

describe("payments: a pending settlement keeps the tenant's response and delivers it once settled", () => {
  it("settled by the reconciler's /settle: the retry gets the tenant's content and the real transaction", async () => {
    const { stub, slug } = await configured({ spendCapsAtomic: { daily: "5000" } }, "deliver");
    const p = claim();
    const first = paidRequest(p, { retry: retryFor(p) });
    expect((await stub.admitPaid(first)).ok).toBe(true);
    const admitted = { payment: p, reservedAt: T0, requestId: first.requestId };
    await stub.markPending(p.id, retryFor(p), admitted, CONTENT);
    expect(await stub.paymentStatus(p.id)).toMatchObject({
      status: "settlement_pending",
      hasStoredResponse: true,
      transaction: null,
    });
    // Until it is known, a retry gets no content (409, retry in 5 s), never the kept response.
    const waiting = refused(await admitWithRetry(stub, p));
    expect(waiting).toMatchObject({ code: "payment_in_flight", headers: { "Retry-After": "5" } });
    expect("stored" in waiting).toBe(false);

    const facilitator = scripted(
      () => ({ ok: true, isValid: true }),
      () => ({ ok: true, success: true, transaction: "0xreal" }),
    );
    await runInDurableObject(stub, (_m: TenantMeter, state) =>
      state.storage.sql.exec("UPDATE payments SET due_at = 0 WHERE id = ?", p.id),
    );
    expect(await reconcileAt(stub, T0 + 10 * SECOND, facilitator)).toEqual({ attempted: 1, actions: { commit: 1 } });

    const replay = refused(await admitWithRetry(stub, p));
    expect(replay).toMatchObject({ code: "payment_replayed", transaction: "0xreal", stored: CONTENT });
    if (replay.code !== "payment_replayed") throw new Error("unreachable");
    expect(replay.stored.bodyBase64).toBe(BODY);
    expect((await stub.spend(T0)).daily).toEqual({ settled: "1000", reserved: "0" });
    const rows = await flushedLedger(stub, slug);
    expect(rows.map((r) => [r.tx_hash, r.request_id])).toEqual([["0xreal", first.requestId]]);
  });

  it("the pending transaction landed on its own: the nonce is used, the retry gets the content and the broadcast hash", async () => {
    const { stub } = await configured({}, "deliver-used");
    const p = claim();
    expect((await admitWithRetry(stub, p)).ok).toBe(true);
    await stub.markPending(p.id, { ...retryFor(p), transaction: "0xbroadcast" }, undefined, CONTENT);
    await runInDurableObject(stub, (_m: TenantMeter, state) =>
      state.storage.sql.exec("UPDATE payments SET due_at = 0 WHERE id = ?", p.id),
    );
    expect(
      await reconcileAt(
        stub,
        T0 + 10 * SECOND,
        scripted(() => USED),
      ),
    ).toEqual({ attempted: 1, actions: { commit: 1 } });
    expect(refused(await admitWithRetry(stub, p))).toMatchObject({
      code: "payment_replayed",
      transaction: "0xbroadcast",
      stored: CONTENT,
    });
  });

  it("released when it provably never settled: the kept response goes with the record and nothing is charged", async () => {
    const { stub, slug } = await configured({}, "deliver-released");
    const p = claim({ validBefore: T0 / 1000 - 600 });
    expect((await admitWithRetry(stub, p)).ok).toBe(true);
    await stub.markPending(p.id, retryFor(p), undefined, CONTENT);
    await runInDurableObject(stub, (_m: TenantMeter, state) =>
      state.storage.sql.exec("UPDATE payments SET due_at = 0 WHERE id = ?", p.id),
    );
    const unused = { ok: true as const, isValid: false, invalidReason: "invalid_exact_evm_insufficient_balance" };
    expect(
      await reconcileAt(
        stub,
        T0,
        scripted(() => unused),
      ),
    ).toEqual({ attempted: 1, actions: { release: 1 } });
    expect(await stub.paymentStatus(p.id)).toBeNull();
    expect((await stub.spend(T0)).daily).toEqual({ settled: "0", reserved: "0" });
    expect(await flushedLedger(stub, slug)).toEqual([]);
    // Expired and unknowable is held (the response stays with it for the operator's decision).
    const q = claim({ validBefore: T0 / 1000 - 600 });
    expect((await admitWithRetry(stub, q)).ok).toBe(true);
    await stub.markPending(q.id, retryFor(q), undefined, CONTENT);
    await runInDurableObject(stub, (_m: TenantMeter, state) =>
      state.storage.sql.exec("UPDATE payments SET due_at = 0 WHERE id = ?", q.id),
    );
    expect(
      await reconcileAt(
        stub,
        T0,
        scripted(() => EXPIRED),
      ),
    ).toEqual({ attempted: 1, actions: { hold: 1 } });
    expect(await stub.paymentStatus(q.id)).toMatchObject({
      status: "settlement_pending",
      unresolved: true,
      hasStoredResponse: true,
    });
  });

  it("the kept response is bounded like a stored replay, and a late markPending keeps it too", async () => {
    const { stub } = await configured({}, "deliver-bounded");
    const big = claim();
    const first = paidRequest(big, { retry: retryFor(big) });
    expect((await stub.admitPaid(first)).ok).toBe(true);
    await stub.release(big.id); // released as orphaned meanwhile: the late markPending recreates it
    const admitted = { payment: big, reservedAt: T0, requestId: first.requestId };
    await stub.markPending(
      big.id,
      retryFor(big),
      admitted,
      response({ bodyBase64: btoa("x".repeat(1024 * 1024 + 1)) }),
    );
    await runInDurableObject(stub, (_m: TenantMeter, state) =>
      state.storage.sql.exec("UPDATE payments SET due_at = 0 WHERE id = ?", big.id),
    );
    expect(
      await reconcileAt(
        stub,
        T0 + 10 * SECOND,
        scripted(() => USED),
      ),
    ).toEqual({ attempted: 1, actions: { commit: 1 } });
    expect(refused(await admitWithRetry(stub, big))).toMatchObject({
      code: "payment_replayed",
      stored: { status: 200, bodyBase64: null, bodyOmitted: true },
    });
  });
});
