// The creator's settled payments for the dashboard, from the D1 ledger: the same rows and the same
// exact bigint totals as GET /v1/tenants/:slug/earnings (src/control/earnings.ts), plus per-payer
// sums and the caps' "today" view. Amounts stay decimal strings of atomic units. Recent settlements
// carry their signed receipt (src/receipts/), as earnings does.
import type { EIP712SignedReceipt } from "@x402/extensions/offer-receipt";
import { atomicToUsd } from "../../../objects/shared/money.ts";
import { storedReceipt } from "../../receipts/stored.ts";

export interface Settlement {
  paymentId: string;
  payer: string;
  amountAtomic: string;
  transaction: string | null;
  settledAt: number;
  receipt: EIP712SignedReceipt | null;
}

export interface PayerTotal {
  payer: string;
  payments: number;
  amountAtomic: string;
  amountUsd: string;
}

export interface LedgerView {
  payments: number;
  amountAtomic: string;
  amountUsd: string;
  recent: Settlement[];
  topPayers: PayerTotal[];
  /** The most one payer paid since `dayStart` (the per-payer daily cap's window), atomic. */
  maxPayerToday: string;
}

export const RECENT_SETTLEMENTS = 10;
export const TOP_PAYERS = 10;

interface Row {
  payment_id: string;
  payer: string;
  amount_atomic: string;
  tx_hash: string | null;
  settled_at: number;
  receipt?: string | null;
}

/** Pure: rows (newest first, the earnings endpoint's order) → the dashboard's view. */
export function ledgerView(rows: readonly Row[], decimals: number, dayStart: number): LedgerView {
  let total = 0n;
  const byPayer = new Map<string, { payments: number; amount: bigint; today: bigint }>();
  for (const r of rows) {
    const amount = BigInt(r.amount_atomic);
    total += amount;
    const p = byPayer.get(r.payer) ?? { payments: 0, amount: 0n, today: 0n };
    p.payments += 1;
    p.amount += amount;
    if (r.settled_at >= dayStart) p.today += amount;
    byPayer.set(r.payer, p);
  }
  const top = [...byPayer.entries()]
    .sort(([a, x], [b, y]) => (y.amount > x.amount ? 1 : y.amount < x.amount ? -1 : a < b ? -1 : 1))
    .slice(0, TOP_PAYERS);
  const maxToday = [...byPayer.values()].reduce((m, p) => (p.today > m ? p.today : m), 0n);
  return {
    payments: rows.length,
    amountAtomic: total.toString(),
    amountUsd: atomicToUsd(total, decimals),
    recent: rows.slice(0, RECENT_SETTLEMENTS).map((r) => ({
      paymentId: r.payment_id,
      payer: r.payer,
      amountAtomic: r.amount_atomic,
      transaction: r.tx_hash,
      settledAt: r.settled_at,
      receipt: storedReceipt(r.receipt),
    })),
    topPayers: top.map(([payer, p]) => ({
      payer,
      payments: p.payments,
      amountAtomic: p.amount.toString(),
      amountUsd: atomicToUsd(p.amount, decimals),
    })),
    maxPayerToday: maxToday.toString(),
  };
}

export async function readLedgerView(
  db: D1Database,
  slug: string,
  decimals: number,
  dayStart: number,
): Promise<LedgerView> {
  const { results } = await db
    .prepare(
      `SELECT payment_id, payer, amount_atomic, tx_hash, settled_at, receipt FROM ledger WHERE tenant = ?
       ORDER BY settled_at DESC, payment_id`,
    )
    .bind(slug)
    .all<Row>();
  return ledgerView(results, decimals, dayStart);
}

/** Exact revenue of each of the creator's APIs (one statement), for the overview table. */
export async function ledgerTotals(
  db: D1Database,
  slugs: readonly string[],
): Promise<Map<string, { payments: number; amount: bigint }>> {
  const out = new Map(slugs.map((s) => [s, { payments: 0, amount: 0n }]));
  if (slugs.length === 0) return out;
  const { results } = await db
    .prepare("SELECT tenant, amount_atomic FROM ledger WHERE tenant IN (SELECT value FROM json_each(?))")
    .bind(JSON.stringify(slugs))
    .all<{ tenant: string; amount_atomic: string }>();
  for (const r of results) {
    const t = out.get(r.tenant);
    if (!t) continue;
    t.payments += 1;
    t.amount += BigInt(r.amount_atomic);
  }
  return out;
}
