// Storage of the payment book (docs/ARCHITECTURE.md §4): every SQL statement on the tables
// payments and idempotency_keys. A payment row IS the reservation; its status is in_flight,
// settlement_pending or settled (a released payment has no row). `due_at` means, by status:
// in_flight → the orphan check (with retry material) or the blind stale release (without);
// settlement_pending → the next reconciliation (null once held as unresolved); settled → when
// the row (and its stored response) may be pruned.
import { utcDayKey, utcMonthKey } from "../shared/time.ts";
import type { PaymentClaim, PaymentState, PaymentStatusInfo, StoredResponse } from "./types.ts";

/** One row of `payments`, as SQLite returns it (a type alias: SqlStorage wants an index-compatible type). */
export type PaymentRow = {
  id: string;
  status: PaymentState;
  amount: string;
  payer: string;
  pay_to: string;
  network: string;
  asset: string;
  valid_before: number;
  request_id: string;
  tenant: string;
  reserved_at: number;
  day: string;
  month: string;
  idem_key: string | null;
  due_at: number | null;
  attempts: number;
  retry: string | null;
  unresolved: number;
  settled_at: number | null;
  tx: string | null;
  resp_status: number | null;
  resp_headers: string | null;
  resp_body: string | null;
  resp_omitted: number | null;
  /** The request the payment pays for (fingerprint.ts), or null when the admit had none. */
  fingerprint: string | null;
  /** An upto payment's actual charge (≤ amount, the reserved maximum); null: the charge is `amount`. */
  charged: string | null;
  /** The tenant error of an upto charge report (upto_charge_capped, …), or null. */
  charge_error: string | null;
};

/** Records the alarm asks the facilitator about: pending settlements and in-flight payments with retry material. */
const RECONCILABLE = "(status = 'settlement_pending' OR (status = 'in_flight' AND retry IS NOT NULL))";
const STALE = "status = 'in_flight' AND retry IS NULL";

const INSERT_COLUMNS =
  "id, status, amount, payer, pay_to, network, asset, valid_before, request_id, tenant, reserved_at, day, month, " +
  "idem_key, due_at, retry, tx, fingerprint";

export class PaymentStore {
  constructor(private readonly sql: SqlStorage) {}

  get(id: string): PaymentRow | undefined {
    return this.sql.exec<PaymentRow>("SELECT * FROM payments WHERE id = ?", id).toArray()[0];
  }

  /** Inserts a new record (status, retry, tx and due_at as given; no response, no attempts). */
  insert(row: PaymentRow): void {
    this.sql.exec(
      `INSERT INTO payments (${INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.id,
      row.status,
      row.amount,
      row.payer,
      row.pay_to,
      row.network,
      row.asset,
      row.valid_before,
      row.request_id,
      row.tenant,
      row.reserved_at,
      row.day,
      row.month,
      row.idem_key,
      row.due_at,
      row.retry,
      row.tx,
      row.fingerprint,
    );
  }

  delete(row: PaymentRow): void {
    this.sql.exec("DELETE FROM payments WHERE id = ?", row.id);
    // Every key bound to this payment (Idempotency-Key and payment-identifier), so it may be presented again.
    if (row.idem_key !== null) {
      this.sql.exec("DELETE FROM idempotency_keys WHERE payer = ? AND payment_id = ?", row.payer, row.id);
    }
  }

  /** An upto payment's actual charge, known before its settlement is (kept for the reconciler's commit). */
  setCharge(id: string, charged: string, error: string | null): void {
    this.sql.exec("UPDATE payments SET charged = ?, charge_error = ? WHERE id = ?", charged, error, id);
  }

  markSettled(id: string, tx: string | null, settledAt: number, pruneAt: number, stored: StoredResponse): void {
    this.sql.exec(
      "UPDATE payments SET status = 'settled', tx = ?, settled_at = ?, due_at = ?, retry = NULL, unresolved = 0, " +
        "resp_status = ?, resp_headers = ?, resp_body = ?, resp_omitted = ? WHERE id = ?",
      tx,
      settledAt,
      pruneAt,
      stored.status,
      JSON.stringify(stored.headers),
      stored.bodyBase64,
      stored.bodyOmitted ? 1 : 0,
      id,
    );
  }

  /** Keeps a response with a record that is not settled yet (delivered once it is). */
  keepResponse(id: string, stored: StoredResponse): void {
    this.sql.exec(
      "UPDATE payments SET resp_status = ?, resp_headers = ?, resp_body = ?, resp_omitted = ? " +
        "WHERE id = ? AND status <> 'settled'",
      stored.status,
      JSON.stringify(stored.headers),
      stored.bodyBase64,
      stored.bodyOmitted ? 1 : 0,
      id,
    );
  }

  markPending(id: string, retryJson: string, tx: string | null, dueAt: number): void {
    this.sql.exec(
      "UPDATE payments SET status = 'settlement_pending', retry = ?, tx = ?, due_at = ?, unresolved = 0 " +
        "WHERE id = ? AND status <> 'settled'",
      retryJson,
      tx,
      dueAt,
      id,
    );
  }

  /** Held: a settlement whose outcome cannot be known any more; no automatic attempts. */
  hold(id: string): void {
    const update =
      "UPDATE payments SET status = 'settlement_pending', unresolved = 1, due_at = NULL, attempts = attempts + 1 " +
      "WHERE id = ?";
    this.sql.exec(update, id);
  }

  retryLater(id: string, dueAt: number, tx: string | null): void {
    this.sql.exec("UPDATE payments SET attempts = attempts + 1, due_at = ?, tx = ? WHERE id = ?", dueAt, tx, id);
  }

  /** In-flight rows without retry material whose stale time has come. */
  stale(now: number): PaymentRow[] {
    const select = `SELECT * FROM payments WHERE ${STALE} AND due_at <= ? ORDER BY due_at LIMIT 1000`;
    return this.sql.exec<PaymentRow>(select, now).toArray();
  }

  /** Reconcilable rows whose next attempt is due, soonest first. */
  dueForReconcile(now: number, limit: number): PaymentRow[] {
    const where = `${RECONCILABLE} AND due_at IS NOT NULL AND due_at <= ?`;
    const select = `SELECT * FROM payments WHERE ${where} ORDER BY due_at LIMIT ?`;
    return this.sql.exec<PaymentRow>(select, now, limit).toArray();
  }

  /** Held records (settlement_pending, unresolved: no more automatic facilitator attempts), oldest first. */
  held(limit: number): PaymentRow[] {
    const select =
      "SELECT * FROM payments WHERE status = 'settlement_pending' AND unresolved = 1 ORDER BY reserved_at LIMIT ?";
    return this.sql.exec<PaymentRow>(select, limit).toArray();
  }

  nextStaleAt(): number | null {
    return this.sql.exec<{ t: number | null }>(`SELECT MIN(due_at) AS t FROM payments WHERE ${STALE}`).one().t;
  }

  nextReconcileAt(): number | null {
    const select = `SELECT MIN(due_at) AS t FROM payments WHERE ${RECONCILABLE} AND due_at IS NOT NULL`;
    return this.sql.exec<{ t: number | null }>(select).one().t;
  }

  /** Deletes settled rows past their replay window; returns when the next one is. */
  pruneSettled(now: number): number | null {
    this.sql.exec("DELETE FROM payments WHERE status = 'settled' AND due_at <= ?", now);
    const select = "SELECT MIN(due_at) AS t FROM payments WHERE status = 'settled'";
    return this.sql.exec<{ t: number | null }>(select).one().t;
  }

  // -------------------------------------------------------------------------------------------
  // idempotency keys (scoped to the tenant and the payer)

  keyOwner(payer: string, key: string): string | null {
    const select = "SELECT payment_id FROM idempotency_keys WHERE payer = ? AND key = ?";
    const row = this.sql.exec<{ payment_id: string }>(select, payer, key).toArray()[0];
    return row?.payment_id ?? null;
  }

  bindKey(payer: string, key: string, paymentId: string, now: number): void {
    this.sql.exec(
      "INSERT INTO idempotency_keys (payer, key, payment_id, created_ms) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (payer, key) DO UPDATE SET payment_id = excluded.payment_id, created_ms = excluded.created_ms",
      payer,
      key,
      paymentId,
      now,
    );
  }

  /** Deletes keys older than `ttlMs`; returns when the oldest remaining one expires. */
  pruneKeys(now: number, ttlMs: number): number | null {
    this.sql.exec("DELETE FROM idempotency_keys WHERE created_ms <= ?", now - ttlMs);
    const oldest = this.sql.exec<{ t: number | null }>("SELECT MIN(created_ms) AS t FROM idempotency_keys").one().t;
    return oldest !== null ? oldest + ttlMs : null;
  }
}

/** The response kept with a settled row. Unreadable headers are dropped rather than failing the replay. */
export function storedResponseOf(row: PaymentRow): StoredResponse {
  let headers: Record<string, string> = {};
  try {
    headers = JSON.parse(row.resp_headers ?? "{}") as Record<string, string>;
  } catch {
    // stored by us as JSON
  }
  return { status: row.resp_status ?? 200, headers, bodyBase64: row.resp_body, bodyOmitted: row.resp_omitted === 1 };
}

/** A row as `paymentStatus` reports it. */
export function statusOf(row: PaymentRow): PaymentStatusInfo {
  const reconcilable = row.status === "settlement_pending" || (row.status === "in_flight" && row.retry !== null);
  return {
    id: row.id,
    status: row.status,
    amountAtomic: row.amount,
    chargedAtomic: row.charged ?? row.amount,
    chargeError: row.charge_error,
    payer: row.payer,
    payTo: row.pay_to,
    network: row.network,
    asset: row.asset,
    validBefore: row.valid_before,
    requestId: row.request_id,
    reservedAt: row.reserved_at,
    settledAt: row.settled_at,
    transaction: row.tx,
    attempts: row.attempts,
    nextAttemptAt: reconcilable ? row.due_at : null,
    hasRetryMaterial: row.retry !== null,
    unresolved: row.unresolved === 1,
    hasStoredResponse: row.status === "settled" || row.resp_status !== null,
  };
}

/** A fresh in-flight row for `claim` (not stored). */
export function newPaymentRow(
  claim: PaymentClaim,
  o: {
    requestId: string;
    tenant: string;
    reservedAt: number;
    idemKey: string | null;
    dueAt: number | null;
    retry: string | null;
    fingerprint?: string | null;
  },
): PaymentRow {
  return {
    id: claim.id,
    status: "in_flight",
    amount: claim.amountAtomic,
    payer: claim.payer,
    pay_to: claim.payTo,
    network: claim.network,
    asset: claim.asset,
    valid_before: claim.validBefore,
    request_id: o.requestId,
    tenant: o.tenant,
    reserved_at: o.reservedAt,
    day: utcDayKey(o.reservedAt),
    month: utcMonthKey(o.reservedAt),
    idem_key: o.idemKey,
    due_at: o.dueAt,
    attempts: 0,
    retry: o.retry,
    unresolved: 0,
    settled_at: null,
    tx: null,
    resp_status: null,
    resp_headers: null,
    resp_body: null,
    resp_omitted: null,
    fingerprint: o.fingerprint ?? null,
    charged: null,
    charge_error: null,
  };
}
