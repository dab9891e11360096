// The signed receipt a dispatcher passes to TenantMeter.commit reaches the D1 ledger row with the
// settlement (ledger outbox, migrations/0007), where earnings and the dashboard read it; a
// commit without one, or with something that is not a bounded string (the RPC is outside input),
// records the payment with no receipt.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admitPaid, claim, configured, okCount, response, T0 } from "./meter-payment-helpers.ts";

const RECEIPT = {
  format: "eip712",
  payload: {
    version: 1,
    network: "eip155:84532",
    resourceUrl: "https://claw.example/t/x/v1/a",
    payer: `0x${"a".repeat(40)}`,
    issuedAt: 1_900_000_000,
    transaction: `0x${"1".repeat(64)}`,
  },
  signature: `0x${"2".repeat(130)}`,
};

describe("ledger rows keep their receipt", () => {
  it("a receipt given to commit is in the ledger row; none, a non-string or an oversized one is NULL", async () => {
    const { stub, slug } = await configured({}, "receipt");
    const payments = Array.from({ length: 4 }, () => claim());
    expect(okCount(await Promise.all(payments.map((p) => admitPaid(stub, p))))).toBe(4);
    const receipts: unknown[] = [JSON.stringify(RECEIPT), undefined, { not: "a string" }, "x".repeat(5000)];
    for (const [i, p] of payments.entries()) {
      const ledger = { requestId: `req-${i}`, settledAt: T0 + i, receipt: receipts[i] as string | undefined };
      const settlement = { transaction: `0x${String(i).repeat(64)}`, network: p.network, payer: p.payer };
      expect(await stub.commit(p.id, settlement, response(), ledger)).toBe("committed");
    }
    expect((await stub.flushOutbox()).remaining).toBe(0);
    const { results } = await env.DB.prepare("SELECT payment_id, receipt FROM ledger WHERE tenant = ?")
      .bind(slug)
      .all<{ payment_id: string; receipt: string | null }>();
    const byId = new Map(results.map((r) => [r.payment_id, r.receipt]));
    expect(byId.get(payments[0]!.id)).toBe(JSON.stringify(RECEIPT));
    expect(byId.get(payments[1]!.id)).toBeNull();
    expect(byId.get(payments[2]!.id)).toBeNull();
    expect(byId.get(payments[3]!.id)).toBeNull();
  });
});
