// The operator routes of held payments (issue 9 item 6, docs/ARCHITECTURE.md §4) through the real
// dispatcher: GET /__platform/tenants/:slug/held-payments lists what the reconciler could not
// decide, POST .../held-payments/:id/resolve commits (ledger row with the operator's transaction,
// the kept response for the payer) or releases it; operator auth and valibot-checked input.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TenantMeter } from "../../objects/meter/tenant-meter.ts";
import { call, OPERATOR } from "./helpers.ts";
import {
  admitWithRetry,
  claim,
  configured,
  EXPIRED,
  flushedLedger,
  type Meter,
  response,
  retryFor,
  scripted,
  T0,
} from "./meter-payment-helpers.ts";

/** A meter with `n` held payments: expired settlement_pending ones the facilitator cannot decide. */
async function withHeld(n: number): Promise<{ stub: Meter; slug: string; ids: string[] }> {
  const { stub, slug } = await configured({}, "held-op");
  const held = Array.from({ length: n }, () => claim({ validBefore: T0 / 1000 - 600 }));
  for (const p of held) {
    expect((await admitWithRetry(stub, p)).ok).toBe(true);
    await stub.markPending(p.id, retryFor(p), undefined, response());
  }
  await runInDurableObject(stub, async (meter: TenantMeter, state) => {
    state.storage.sql.exec("UPDATE payments SET due_at = 0 WHERE status = 'settlement_pending'");
    await meter.reconcilePending(
      T0,
      scripted(() => EXPIRED),
    );
  });
  return { stub, slug, ids: held.map((p) => p.id) };
}

function resolve(slug: string, id: string, body: unknown, headers: Record<string, string> = OPERATOR) {
  return call(`/__platform/tenants/${slug}/held-payments/${encodeURIComponent(id)}/resolve`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("operator: held payments", () => {
  it("lists held payments, oldest first, and resolves them: committed with a transaction, released", async () => {
    const { stub, slug, ids } = await withHeld(3);
    const list = await call(`/__platform/tenants/${slug}/held-payments`, { headers: OPERATOR });
    expect(list.status).toBe(200);
    const listed = ((await list.json()) as { items: { id: string; status: string; unresolved: boolean }[] }).items;
    expect(listed.map((h) => h.id).sort()).toEqual([...ids].sort());
    expect(listed.every((h) => h.status === "settlement_pending" && h.unresolved)).toBe(true);
    const limited = await call(`/__platform/tenants/${slug}/held-payments?limit=1`, { headers: OPERATOR });
    expect(((await limited.json()) as { items: unknown[] }).items).toHaveLength(1);

    const tx = `0x${"ab".repeat(32)}`;
    const committed = await resolve(slug, ids[0]!, { settled: true, transaction: tx });
    expect(committed.status).toBe(200);
    const body = (await committed.json()) as { result: string; payment: { status: string; transaction: string } };
    expect(body).toMatchObject({ result: "committed", payment: { status: "settled", transaction: tx } });
    const released = await resolve(slug, ids[1]!, { settled: false });
    expect(await released.json()).toEqual({ result: "released", payment: null });
    // Resolving twice changes nothing.
    expect(((await (await resolve(slug, ids[1]!, { settled: true })).json()) as { result: string }).result).toBe(
      "not_pending",
    );

    const rows = await flushedLedger(stub, slug);
    expect(rows.map((r) => [r.payment_id, r.tx_hash])).toEqual([[ids[0], tx]]);
    const after = await call(`/__platform/tenants/${slug}/held-payments`, { headers: OPERATOR });
    expect(((await after.json()) as { items: { id: string }[] }).items.map((h) => h.id)).toEqual([ids[2]]);
  });

  it("refuses callers without the operator token and malformed input with stable 4xx codes", async () => {
    const { slug, ids } = await withHeld(1);
    const anonymous = await call(`/__platform/tenants/${slug}/held-payments`);
    expect(anonymous.status).toBe(401);
    const wrongToken = await resolve(slug, ids[0]!, { settled: false }, { authorization: "Bearer nope" });
    expect(wrongToken.status).toBe(401);
    const cases: [string, unknown, number, string][] = [
      [slug, { settled: "yes" }, 400, "invalid_request"],
      [slug, { settled: true, transaction: "0x12" }, 400, "invalid_request"],
      [slug, { settled: false, transaction: `0x${"ab".repeat(32)}` }, 400, "invalid_request"],
      [slug, [], 400, "invalid_request"],
      ["Not_A_Slug", { settled: false }, 400, "invalid_slug"],
    ];
    for (const [s, body, status, code] of cases) {
      const res = await resolve(s, ids[0]!, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      const envelope = (await res.json()) as { error: { code: string }; requestId: string };
      expect(envelope.error.code).toBe(code);
      expect(typeof envelope.requestId).toBe("string");
    }
    const badLimit = await call(`/__platform/tenants/${slug}/held-payments?limit=0`, { headers: OPERATOR });
    expect(badLimit.status).toBe(400);
    // Nothing of that changed the held payment.
    const list = await call(`/__platform/tenants/${slug}/held-payments`, { headers: OPERATOR });
    expect(((await list.json()) as { items: { id: string }[] }).items.map((h) => h.id)).toEqual(ids);
  });
});
