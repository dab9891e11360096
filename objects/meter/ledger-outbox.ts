// The ledger outbox (docs/ARCHITECTURE.md §4, §9.4): a settled payment's ledger row, written to
// the outbox in the settlement's own transaction and delivered to D1 (tables ledger and
// audit_log) by the outbox drainer. The D1 side is idempotent (keyed by payment id and by
// 'settlement:<id>'), so a row delivered twice is recorded once and a settlement reaches the
// ledger exactly once even while D1 is down.
import type { OutboxChannel, Outbox } from "./outbox.ts";

/** Ledger rows per D1 batch (two statements per batch whatever its size: see LEDGER_INSERT). */
const LEDGER_BATCH = 100;
/** Batches per drain. */
const MAX_LEDGER_BATCHES = 10;
/** A commit schedules delivery this soon, so a burst of commits shares one D1 batch. */
const LEDGER_DELAY_MS = 200;

/** A ledger row as it waits in the outbox (JSON in `outbox.body`). */
export interface LedgerOutboxEntry {
  paymentId: string;
  tenant: string;
  requestId: string;
  payer: string;
  payTo: string;
  /** What was charged (an upto payment's actual charge). */
  amountAtomic: string;
  /** An upto payment's signed maximum (what was reserved); absent for a fixed price. */
  maxAmountAtomic?: string;
  /** An upto charge report's tenant error (upto_charge_capped, …); absent when none. */
  chargeError?: string;
  asset: string;
  network: string;
  transaction: string | null;
  settledAt: number;
  /** The signed receipt the payer got (JSON, src/receipts/); absent or null: none was issued. */
  receipt?: string | null;
}

/** Longest receipt kept with a ledger row (an EIP-712 receipt is about 500 characters). */
export const MAX_RECEIPT_LENGTH = 4096;

/**
 * D1 statements of one batch: each takes the whole batch as one JSON array (json_each), so a
 * batch is two statements whatever its size and stays under D1's bound-parameter limit.
 * ON CONFLICT DO NOTHING (not OR IGNORE): only a duplicate payment id / dedupe key is skipped; a
 * NOT NULL or CHECK failure fails the batch instead of silently dropping a ledger row.
 * (`WHERE true` resolves SQLite's parsing ambiguity between a join's ON and upsert's ON CONFLICT.)
 */
const LEDGER_INSERT = `INSERT INTO ledger (payment_id, tenant, request_id, payer, pay_to, amount_atomic, asset, network,
  tx_hash, settled_at, recorded_at, max_amount_atomic, charge_error, receipt)
SELECT json_extract(value, '$.paymentId'), json_extract(value, '$.tenant'), json_extract(value, '$.requestId'),
  json_extract(value, '$.payer'), json_extract(value, '$.payTo'), json_extract(value, '$.amountAtomic'),
  json_extract(value, '$.asset'), json_extract(value, '$.network'), json_extract(value, '$.transaction'),
  json_extract(value, '$.settledAt'), ?2, json_extract(value, '$.maxAmountAtomic'), json_extract(value, '$.chargeError'),
  json_extract(value, '$.receipt')
FROM json_each(?1) WHERE true
ON CONFLICT (payment_id) DO NOTHING`;
const AUDIT_INSERT = `INSERT INTO audit_log (ts, actor, action, subject, request_id, detail, dedupe_key)
SELECT json_extract(value, '$.settledAt'), 'meter', 'payment.settled', json_extract(value, '$.tenant'),
  json_extract(value, '$.requestId'),
  json_patch(json_object('paymentId', json_extract(value, '$.paymentId'),
    'amountAtomic', json_extract(value, '$.amountAtomic'),
    'payer', json_extract(value, '$.payer'), 'payTo', json_extract(value, '$.payTo'),
    'network', json_extract(value, '$.network'), 'asset', json_extract(value, '$.asset'),
    'transaction', json_extract(value, '$.transaction')),
    -- upto rows only: a merge patch drops the keys whose value is null
    json_object('maxAmountAtomic', json_extract(value, '$.maxAmountAtomic'),
      'chargeError', json_extract(value, '$.chargeError'))),
  'settlement:' || json_extract(value, '$.paymentId')
FROM json_each(?1) WHERE true
ON CONFLICT (dedupe_key) DO NOTHING`;

/** The outbox channel that delivers ledger rows to D1, one atomic batch per delivery. */
export function ledgerChannel(db: D1Database): OutboxChannel {
  return {
    kind: "ledger",
    batchRows: LEDGER_BATCH,
    maxBatches: MAX_LEDGER_BATCHES,
    appendDelayMs: LEDGER_DELAY_MS,
    idleDelayMs: 0,
    target: () => async (bodies) => {
      const entries = `[${bodies.join(",")}]`;
      await db.batch([db.prepare(LEDGER_INSERT).bind(entries, Date.now()), db.prepare(AUDIT_INSERT).bind(entries)]);
    },
  };
}

export class LedgerOutbox {
  constructor(private readonly outbox: Outbox) {}

  /** Queues a ledger row; call inside the settlement's transaction. */
  append(entry: LedgerOutboxEntry, now: number): void {
    this.outbox.append("ledger", JSON.stringify(entry), now);
  }
}
