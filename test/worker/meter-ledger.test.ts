// TenantMeter's ledger outbox inside workerd with real Durable Objects and D1: every settlement
// reaches the D1 ledger exactly once, even while D1 fails and the object is evicted
// (docs/ARCHITECTURE.md §9.4), and responses kept for replay are bounded.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  T0,
  NETWORK,
  ASSET,
  PAY_TO,
  PAYER_A,
  PAYER_B,
  configured,
  claim,
  admitPaid,
  okCount,
  refused,
  BODY,
  response,
  commit,
  sqlCount,
  ledgerRows,
  auditCount,
  ledgerOffline,
} from "./meter-payment-helpers.ts";

describe("payments: every settlement reaches the D1 ledger exactly once (ARCHITECTURE §9.4)", () => {
  it("keeps 20 settlements through a D1 outage and an eviction, then records each exactly once", async () => {
    const { stub, slug } = await configured({}, "ledger");
    // Amounts beyond 2^53 and with distinct digits: they must arrive as exact decimal strings.
    const payments = Array.from({ length: 20 }, (_, i) =>
      claim({ amountAtomic: `${9007199254740993n + BigInt(i) * 1_000_000_007n}`, payer: i % 2 ? PAYER_A : PAYER_B }),
    );
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
      expect(row).toMatchObject({
        tx_hash: `0x${p.id.slice(-8)}`,
        settled_at: T0,
        payer: p.payer,
        request_id: `req-${p.id.slice(-6)}`,
      });
    }
    const types = await env.DB.prepare("SELECT DISTINCT typeof(amount_atomic) AS t FROM ledger WHERE tenant = ?")
      .bind(slug)
      .all<{ t: string }>();
    expect(types.results).toEqual([{ t: "text" }]);
    const audit = await env.DB.prepare(
      "SELECT actor, request_id, detail, dedupe_key FROM audit_log WHERE dedupe_key = ?",
    )
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
    expect(new Set(await Promise.all(payments.map((p) => commit(stub, p, "0xother"))))).toEqual(
      new Set(["already_settled"]),
    );
    const extra = [claim(), claim()];
    for (const p of extra) expect((await admitPaid(stub, p)).ok).toBe(true);
    await Promise.all(extra.map((p) => commit(stub, p)));
    await evictDurableObject(stub);
    expect((await stub.flushOutbox()).remaining).toBe(0);
    expect(await ledgerRows(slug)).toHaveLength(22);
    expect(await auditCount(slug)).toBe(22);
    expect((await ledgerRows(slug)).find((r) => r.payment_id === payments[0]!.id)!.tx_hash).toBe(
      `0x${payments[0]!.id.slice(-8)}`,
    );
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
    await stub.commit(
      big.id,
      { transaction: "0x1", network: NETWORK, payer: PAYER_A },
      response({ bodyBase64: bigBody }),
      { requestId: "r-big", settledAt: T0 },
    );
    await commit(stub, small);
    expect(refused(await admitPaid(stub, big))).toMatchObject({
      code: "payment_replayed",
      stored: { status: 200, headers: { "content-type": "application/json" }, bodyBase64: null, bodyOmitted: true },
    });
    expect(refused(await admitPaid(stub, small))).toMatchObject({
      code: "payment_replayed",
      stored: { bodyBase64: BODY, bodyOmitted: false },
    });
  });
});
