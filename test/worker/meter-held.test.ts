// Held settlements must resolve (issue 9 item 6, docs/ARCHITECTURE.md §4): what the facilitator can
// no longer tell (a payment that expired before it could be asked) is read from the token's own
// record of the authorization — used → committed with its transaction, unused after expiry →
// released — and what stays unknown is listed for an operator, who resolves it.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type ChainAnswer, type ChainReader, rpcChain } from "../../objects/meter/chain.ts";
import type { TenantMeter } from "../../objects/meter/tenant-meter.ts";
import {
  admitWithRetry,
  claim,
  commit,
  configured,
  EXPIRED,
  flushedLedger,
  type Meter,
  refused,
  response,
  retryFor,
  scripted,
  T0,
  USED,
} from "./meter-payment-helpers.ts";

/** A chain that knows what `answers` says per nonce (the id's last part) and records what it was asked. */
function fakeChain(answers: Record<string, ChainAnswer>, asked: string[] = []): ChainReader {
  return {
    async authorization(asset, authorizer, nonce) {
      asked.push(`${asset} ${authorizer} ${nonce}`);
      return answers[nonce] ?? { state: "unknown" };
    },
  };
}

const nonceOf = (id: string) => id.split(":").pop()!;

async function dueNow(stub: Meter): Promise<void> {
  await runInDurableObject(stub, (_m: TenantMeter, state) => {
    state.storage.sql.exec("UPDATE payments SET due_at = 0 WHERE status <> 'settled' AND due_at IS NOT NULL");
  });
}

describe("payments: held settlements are decided from the chain", () => {
  it("a $0.01 daily cap with 6 settled and 4 held payments opens again once the chain decides them", async () => {
    const { stub, slug } = await configured({ spendCapsAtomic: { daily: "10000" } }, "held-cap");
    const settled = Array.from({ length: 6 }, () => claim());
    const held = Array.from({ length: 4 }, () => claim({ validBefore: T0 / 1000 - 600 }));
    for (const p of [...settled, ...held]) expect((await admitWithRetry(stub, p)).ok).toBe(true);
    for (const p of settled) await commit(stub, p);
    for (const p of held) await stub.markPending(p.id, retryFor(p), undefined, response());
    await dueNow(stub);
    // The facilitator answers only with expiry: without a chain they are held and the API is closed.
    const facilitator = scripted(() => EXPIRED);
    const run = (m: TenantMeter) => m.reconcilePending(T0, facilitator);
    expect(await runInDurableObject(stub, run)).toEqual({ attempted: 4, actions: { hold: 4 } });
    expect(refused(await admitWithRetry(stub, claim())).code).toBe("spend_cap_exceeded");
    expect((await stub.heldPayments()).map((h) => h.id).sort()).toEqual(held.map((p) => p.id).sort());

    const chain = fakeChain({
      [nonceOf(held[0]!.id)]: { state: "used", transaction: "0xmined0" },
      [nonceOf(held[1]!.id)]: { state: "used", transaction: "0xmined1" },
      [nonceOf(held[2]!.id)]: { state: "unused" },
    });
    const asked: string[] = [];
    const recording: ChainReader = { authorization: (a, b, c) => (asked.push(c), chain.authorization(a, b, c)) };
    const decided = await runInDurableObject(stub, (m: TenantMeter) => m.reconcileHeld(T0, recording));
    expect(decided).toEqual({ attempted: 4, actions: { commit: 2, release: 1, hold: 1 } });
    expect(asked.sort()).toEqual(held.map((p) => nonceOf(p.id)).sort());
    expect(await stub.paymentStatus(held[0]!.id)).toMatchObject({ status: "settled", transaction: "0xmined0" });
    expect(await stub.paymentStatus(held[2]!.id)).toBeNull();
    expect(await stub.paymentStatus(held[3]!.id)).toMatchObject({ status: "settlement_pending", unresolved: true });
    expect((await stub.spend(T0)).daily).toEqual({ settled: "8000", reserved: "1000" });
    // One call fits again; the held one still counts, the released one does not.
    expect((await admitWithRetry(stub, claim())).ok).toBe(true);
    expect(refused(await admitWithRetry(stub, claim())).code).toBe("spend_cap_exceeded");
    // The payer's retry of a decided one gets the kept content with the chain's transaction.
    expect(refused(await admitWithRetry(stub, held[1]!))).toMatchObject({
      code: "payment_replayed",
      transaction: "0xmined1",
      stored: response(),
    });
    const txs = (await flushedLedger(stub, slug)).map((r) => r.tx_hash).filter((t) => t?.startsWith("0xmined"));
    expect(txs.sort()).toEqual(["0xmined0", "0xmined1"]);
  });

  it("during reconciliation the chain supplies the transaction of a used nonce and decides an expired one", async () => {
    const { stub } = await configured({}, "held-reconcile");
    const landed = claim();
    const expiredUnused = claim({ validBefore: T0 / 1000 - 600 });
    const fresh = claim();
    for (const p of [landed, expiredUnused, fresh]) {
      expect((await admitWithRetry(stub, p)).ok).toBe(true);
      await stub.markPending(p.id, retryFor(p));
    }
    await dueNow(stub);
    const facilitator = scripted((payload) => {
      const nonce = (payload as unknown as { payload: { authorization: { nonce: string } } }).payload.authorization
        .nonce;
      return nonce === landed.id ? USED : nonce === expiredUnused.id ? EXPIRED : { ok: false };
    });
    const chain = fakeChain({
      [nonceOf(landed.id)]: { state: "used", transaction: "0xreal" },
      [nonceOf(expiredUnused.id)]: { state: "unused" },
      [nonceOf(fresh.id)]: { state: "unused" },
    });
    const result = await runInDurableObject(stub, (m: TenantMeter) => m.reconcilePending(T0, facilitator, chain));
    expect(result).toEqual({ attempted: 3, actions: { commit: 1, release: 1, retry: 1 } });
    expect(await stub.paymentStatus(landed.id)).toMatchObject({ status: "settled", transaction: "0xreal" });
    expect(await stub.paymentStatus(expiredUnused.id)).toBeNull();
    // Not expired: unused on chain proves nothing yet (its transaction may still land).
    expect(await stub.paymentStatus(fresh.id)).toMatchObject({ status: "settlement_pending", attempts: 1 });
  });
});

describe("payments: an operator lists and resolves what stays unknown", () => {
  it("resolvePayment commits with the chain's transaction or releases; only settlement_pending records", async () => {
    const { stub, slug } = await configured({}, "held-operator");
    const [paid, unpaid, flying] = [
      claim({ validBefore: T0 / 1000 - 600 }),
      claim({ validBefore: T0 / 1000 - 600 }),
      claim(),
    ];
    for (const p of [paid, unpaid, flying]) expect((await admitWithRetry(stub, p)).ok).toBe(true);
    for (const p of [paid, unpaid]) await stub.markPending(p.id, retryFor(p), undefined, response());
    await dueNow(stub);
    await runInDurableObject(stub, (m: TenantMeter) =>
      m.reconcilePending(
        T0,
        scripted(() => EXPIRED),
      ),
    );
    const listed = await stub.heldPayments(10);
    expect(listed.map((h) => [h.id, h.status, h.unresolved, h.hasStoredResponse]).sort()).toEqual(
      [paid, unpaid].map((p) => [p.id, "settlement_pending", true, true]).sort(),
    );
    expect(await stub.resolvePayment(flying.id, { settled: false })).toBe("not_pending");
    expect(await stub.resolvePayment("nope", { settled: true })).toBe("not_pending");
    const bad = (m: TenantMeter) => {
      try {
        m.resolvePayment(paid.id, { settled: "yes" } as never);
        return "";
      } catch (err) {
        return String(err);
      }
    };
    expect(await runInDurableObject(stub, bad)).toMatch(/^TypeError: resolvePayment/);

    expect(await stub.resolvePayment(paid.id, { settled: true, transaction: "0xchecked" })).toBe("committed");
    expect(await stub.resolvePayment(paid.id, { settled: false })).toBe("not_pending"); // never un-settled
    expect(await stub.resolvePayment(unpaid.id, { settled: false })).toBe("released");
    expect(await stub.heldPayments()).toEqual([]);
    expect(refused(await admitWithRetry(stub, paid))).toMatchObject({
      code: "payment_replayed",
      transaction: "0xchecked",
      stored: response(),
    });
    expect((await flushedLedger(stub, slug)).map((r) => r.tx_hash)).toEqual(["0xchecked"]);
    expect((await stub.spend(T0)).daily).toEqual({ settled: "1000", reserved: "1000" }); // `flying` is still reserved
  });
});

describe("the token read over JSON-RPC", () => {
  it("asks authorizationState, then the AuthorizationUsed log; any failure is unknown", async () => {
    const asset = "0x036cbd53842c5426634e7929541ec2318f3dcf7e";
    const authorizer = "0x" + "a".repeat(40);
    const nonce = "0x" + "1".repeat(64);
    const bodies: { method: string; params: unknown[] }[] = [];
    const replies: unknown[] = [
      { result: "0x" + "0".repeat(63) + "1" },
      { result: [{ transactionHash: "0xabc" }] },
      { result: "0x" + "0".repeat(64) },
      { result: "0x" + "0".repeat(63) + "1" },
      { result: [] },
      { error: { code: -32000, message: "boom" } },
    ];
    const fetchImpl = (async (_url: RequestInfo | URL, init?: RequestInit) => {
      bodies.push(JSON.parse(String(init?.body)));
      return Response.json(replies.shift());
    }) as typeof fetch;
    const chain = rpcChain("http://rpc.test", fetchImpl);
    expect(await chain.authorization(asset, authorizer, nonce)).toEqual({ state: "used", transaction: "0xabc" });
    expect(await chain.authorization(asset, authorizer, nonce)).toEqual({ state: "unused" });
    expect(await chain.authorization(asset, authorizer, nonce)).toEqual({ state: "unknown" }); // used or canceled: no log
    expect(await chain.authorization(asset, authorizer, nonce)).toEqual({ state: "unknown" });
    const failing = rpcChain("http://rpc.test", (async () => new Response("down", { status: 502 })) as typeof fetch);
    expect(await failing.authorization(asset, authorizer, nonce)).toEqual({ state: "unknown" });
    expect(bodies[0]).toMatchObject({
      method: "eth_call",
      params: [{ to: asset, data: `0xe94a0102${"0".repeat(24)}${"a".repeat(40)}${"1".repeat(64)}` }, "latest"],
    });
    expect(bodies[1]).toMatchObject({
      method: "eth_getLogs",
      params: [
        {
          address: asset,
          topics: [
            "0x98de503528ee59b575ef0c0a2576a82497bfc029a5685b209e9ec333479b10a5",
            `0x${"0".repeat(24)}${"a".repeat(40)}`,
            nonce,
          ],
        },
      ],
    });
  });
});
