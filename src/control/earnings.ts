// GET /v1/tenants/:slug/earnings: the creator's settled payments from the D1 ledger (exact
// integer atomic amounts, summed as bigints), newest first, with cursor pagination. Each row carries
// the signed receipt its payer got (x402 offer-receipt, src/receipts/), or null.
import * as v from "valibot";
import type { IRequest } from "itty-router";
import { json } from "../http/json.ts";
import { validate } from "../http/body.ts";
import { assetFor } from "../config/assets.ts";
import { atomicToUsd } from "../../objects/shared/money.ts";
import { requireCreator } from "./auth.ts";
import { ownedTenant, slugParam } from "./tenants.ts";
import { storedReceipt } from "../receipts/stored.ts";
import type { PlatformContext } from "./context.ts";

const QuerySchema = v.object({
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,4}$/, "limit must be 1-1000"),
      v.transform(Number),
      v.minValue(1),
      v.maxValue(1000),
    ),
    "100",
  ),
  before: v.optional(v.pipe(v.string(), v.regex(/^\d{1,16}$/, "before must be a ms timestamp"), v.transform(Number))),
});

interface LedgerRow {
  payment_id: string;
  request_id: string;
  payer: string;
  pay_to: string;
  amount_atomic: string;
  asset: string;
  network: string;
  tx_hash: string | null;
  settled_at: number;
  /** Usage-priced (upto) rows: the signed maximum, and the charge report's tenant error. */
  max_amount_atomic: string | null;
  charge_error: string | null;
  receipt: string | null;
}

export async function tenantEarnings(request: IRequest, pc: PlatformContext): Promise<Response> {
  const principal = await requireCreator(request, pc.env, pc.ctx, "tenants:read");
  const config = await ownedTenant(pc, principal.creatorId, slugParam(request));
  const query = validate(QuerySchema, Object.fromEntries(new URL(request.url).searchParams), "query");
  const db = pc.env.DB;
  const [page, all] = await db.batch<Record<string, unknown>>([
    db
      .prepare(
        `SELECT payment_id, request_id, payer, pay_to, amount_atomic, asset, network, tx_hash, settled_at,
         max_amount_atomic, charge_error, receipt FROM ledger
         WHERE tenant = ? AND settled_at < ? ORDER BY settled_at DESC, payment_id LIMIT ?`,
      )
      .bind(config.slug, query.before ?? Number.MAX_SAFE_INTEGER, query.limit),
    db.prepare("SELECT amount_atomic FROM ledger WHERE tenant = ?").bind(config.slug),
  ]);
  const rows = (page?.results ?? []) as unknown as LedgerRow[];
  // Summed as bigints in code: SQLite's SUM over TEXT would go through floats.
  const amounts = ((all?.results ?? []) as { amount_atomic: string }[]).map((r) => BigInt(r.amount_atomic));
  const total = amounts.reduce((a, b) => a + b, 0n);
  const decimals = assetFor(config.network, config.asset)?.decimals ?? 6;
  const last = rows.at(-1);
  return json({
    slug: config.slug,
    totals: { payments: amounts.length, amountAtomic: total.toString(), amountUsd: atomicToUsd(total, decimals) },
    items: rows.map((r) => ({
      paymentId: r.payment_id,
      requestId: r.request_id,
      payer: r.payer,
      payTo: r.pay_to,
      amountAtomic: r.amount_atomic,
      asset: r.asset,
      network: r.network,
      transaction: r.tx_hash,
      settledAt: r.settled_at,
      // amountAtomic is what was charged; an upto row also says what the payer signed for.
      ...(r.max_amount_atomic !== null ? { maxAmountAtomic: r.max_amount_atomic, chargeError: r.charge_error } : {}),
      receipt: storedReceipt(r.receipt),
    })),
    nextBefore: rows.length === query.limit && last ? last.settled_at : null,
  });
}
