// The dashboard's recent settlements link each ledger row to its signed receipt (src/receipts/):
// the stored JSON reads back as the receipt object and the row renders it in a disclosure (no
// JavaScript needed); a row without one, or with a stored value that is not a receipt, says none.
import { describe, expect, it } from "vitest";
import { ledgerView } from "../../src/web/dashboard/ledger.ts";
import { Settlements } from "../../src/web/dashboard/sections.tsx";

const RECEIPT = {
  format: "eip712",
  payload: {
    version: 1,
    network: "eip155:84532",
    resourceUrl: "https://claw.example/t/x/v1/a?<b>",
    payer: `0x${"a".repeat(40)}`,
    issuedAt: 1_900_000_000,
    transaction: `0x${"1".repeat(64)}`,
  },
  signature: `0x${"2".repeat(130)}`,
};

const row = (id: string, receipt: string | null) => ({
  payment_id: id,
  payer: `0x${"a".repeat(40)}`,
  amount_atomic: "1000",
  tx_hash: `0x${"1".repeat(64)}`,
  settled_at: 1_900_000_000_000,
  receipt,
});

describe("dashboard settlements and receipts", () => {
  it("each recent settlement carries its receipt, rendered escaped; none for rows without a receipt", async () => {
    const view = ledgerView([row("p1", JSON.stringify(RECEIPT)), row("p2", null), row("p3", "{broken")], 6, 0);
    expect(view.recent.map((s) => s.receipt)).toEqual([RECEIPT, null, null]);
    const html = String(await Settlements({ ledger: view, usd: (a) => `$${a}` }));
    expect(html).toContain('<th scope="col">Receipt</th>');
    expect(html.match(/<details class="receipt">/g)).toHaveLength(1);
    expect(html).toContain(RECEIPT.signature);
    expect(html).toContain("?&lt;b&gt;");
    expect(html.match(/<span class="muted">none<\/span>/g)).toHaveLength(2);
  });
});
