// The payment book (docs/ARCHITECTURE.md §4, §9.2-4): the reservation state machine after a paid
// admit (paid-admit.ts). Every transition is synchronous and one storage transaction:
//   release      in_flight → (gone): reserved −= amount; the payer may present the payment again.
//                A settlement_pending record only with includePending (operator, chain checked).
//   markPending  in_flight → settlement_pending: /settle's outcome is unknown; the reservation is
//                kept with the facilitator material (and the tenant's response, bounded) and
//                reconciled by the alarm. Once it is known settled, the payer's retry gets that
//                response with the transaction, like any replay; released, the payer was not charged.
//   commit       in_flight | settlement_pending → settled: reserved → settled spend, the response
//                kept for replays, the ledger row and the usage event queued in the outboxes. An
//                upto payment reserved its maximum and settles its actual charge (≤ it; 0 too: the
//                row is what locks the unused permit against a second free run).
//   reconcile    the reconciler's decision applied (commit, release, hold, retry later).
// A released record whose dispatcher was merely slow is recreated by a late commit or a late
// markPending from the `AdmittedPayment` the dispatcher passes back, so money that moved is always
// recorded. A settled record is never un-settled, re-settled or marked pending.
import type { AlarmScheduler } from "../shared/alarm.ts";
import type { ConfigStore } from "./config.ts";
import { MAX_FINGERPRINT_LENGTH } from "./fingerprint.ts";
import type { Housekeeping } from "./housekeeping.ts";
import { MAX_RECEIPT_LENGTH, type LedgerOutbox } from "./ledger-outbox.ts";
import { boundedString, finiteOr, nonEmptyOrNull, parseClaim, retryJson } from "./payment-claim.ts";
import { IDEMPOTENCY_KEY_TTL_MS, nextReconcileAtMs, settledPruneAtMs } from "./payment-rules.ts";
import { newPaymentRow, type PaymentRow, type PaymentStore, statusOf, storedResponseOf } from "./payment-store.ts";
import type { ReconcileAction } from "./reconcile-decision.ts";
import type { SpendBook } from "./spend-book.ts";
import { capStoredResponse, reconciledResponse } from "./stored-response.ts";
import type {
  AdmittedPayment,
  CommitResult,
  LedgerEntryInput,
  PaymentClaim,
  PaymentResolution,
  PaymentStatusInfo,
  ResolveResult,
  SettlementInfo,
  SettlementRetry,
  StoredResponse,
} from "./types.ts";
import type { UsageOutbox } from "./usage-outbox.ts";
import { ATOMIC_PATTERN } from "../shared/money.ts";

/** A charge as the dispatcher reports it, bounded by the reserved amount; null when it sent none or garbage. */
function chargeOf(given: unknown, reserved: string): { atomic: string; error: string | null } | null {
  if (!given || typeof given !== "object") return null;
  const { atomic, error } = given as { atomic?: unknown; error?: unknown };
  if (typeof atomic !== "string" || !ATOMIC_PATTERN.test(atomic)) return null;
  const bounded = BigInt(atomic) > BigInt(reserved) ? reserved : atomic;
  return { atomic: bounded, error: boundedString(error, 64) ? error : null };
}

/** Without a facilitator, reconcilable payments are only looked at again this often. */
const NO_FACILITATOR_RETRY_MS = 5 * 60_000;

export interface PaymentBookParts {
  transactionSync: <T>(fn: () => T) => T;
  store: PaymentStore;
  spend: SpendBook;
  config: ConfigStore;
  ledger: LedgerOutbox;
  usage: UsageOutbox;
  alarms: AlarmScheduler;
  housekeeping: Housekeeping;
}

export class PaymentBook {
  constructor(private readonly p: PaymentBookParts) {}

  /**
   * Frees an in-flight reservation (tenant failed, settle failed: the payer is not charged).
   * Unknown or settled ids are a no-op. With `requestId` only the record that request admitted
   * is released: after an orphan check released it, another request may have admitted it again.
   */
  release(paymentId: string, options?: { includePending?: boolean; requestId?: string }): void {
    if (typeof paymentId !== "string") return;
    const row = this.p.store.get(paymentId);
    if (!row || row.status === "settled") return;
    if (row.status === "settlement_pending" && options?.includePending !== true) return;
    if (typeof options?.requestId === "string" && options.requestId !== row.request_id) return;
    this.releaseRow(row);
  }

  private releaseRow(row: PaymentRow): void {
    this.p.transactionSync(() => {
      this.p.store.delete(row);
      this.p.spend.adjust(row, row.amount, "release");
    });
  }

  /**
   * The settle outcome is unknown (timeout, network): keep the reservation, store what the alarm
   * needs to ask the facilitator again, and schedule it. No-op for unknown or settled ids.
   * Throws TypeError (writing nothing) if the retry material is not a JSON object with both parts.
   */
  markPending(paymentId: string, retry: SettlementRetry, admitted?: AdmittedPayment, response?: StoredResponse): void {
    if (typeof paymentId !== "string") return;
    const row = this.p.store.get(paymentId);
    if (row?.status === "settled") return;
    if (!row) {
      this.markPendingLate(paymentId, retry, admitted, response);
      return;
    }
    const json = retryJson(retry, "markPending: retry");
    const tx = nonEmptyOrNull(retry.transaction) ?? row.tx;
    const dueAt = nextReconcileAtMs(Date.now(), 0, row.valid_before);
    const charge = chargeOf(retry.charge, row.amount);
    this.p.transactionSync(() => {
      this.p.store.markPending(row.id, json, tx, dueAt);
      if (charge) this.p.store.setCharge(row.id, charge.atomic, charge.error);
      if (response !== undefined && response !== null) this.p.store.keepResponse(row.id, capStoredResponse(response));
    });
    this.p.alarms.arm(dueAt);
  }

  /**
   * Released as orphaned while this dispatcher's settle was still out (a slow tenant plus a
   * settle timeout): the transfer may happen, so reserve it again and reconcile it.
   */
  private markPendingLate(
    paymentId: string,
    retry: SettlementRetry,
    admitted: AdmittedPayment | undefined,
    response: StoredResponse | undefined,
  ): void {
    const late = admitted ? this.rowFromAdmitted(paymentId, null, admitted) : null;
    if (!late) return;
    const json = retryJson(retry, "markPending: retry");
    const dueAt = nextReconcileAtMs(Date.now(), 0, late.valid_before);
    const tx = nonEmptyOrNull(retry.transaction);
    const row: PaymentRow = { ...late, status: "settlement_pending", retry: json, tx, due_at: dueAt };
    this.p.transactionSync(() => {
      this.p.store.insert(row);
      if (response !== undefined && response !== null) this.p.store.keepResponse(row.id, capStoredResponse(response));
      this.p.spend.adjust(row, row.amount, "reserve");
    });
    this.p.alarms.arm(dueAt);
    console.warn(
      `late markPending: payment ${row.id} was released as orphaned while its settle was out; ` +
        "reserved again as settlement_pending",
    );
  }

  /**
   * The settlement happened: mark it settled, keep the response for replays (bounded), turn the
   * reservation into settled spend and queue the ledger row. Committing a settled id again
   * changes nothing. An unknown id with `admitted` is a late commit (`committed_late`): the
   * record is recreated as settled, counted as settled spend in its admit's windows even if a cap
   * filled meanwhile (the money moved). Without `admitted` an unknown id stays a no-op.
   */
  commit(
    paymentId: string,
    settlement: SettlementInfo,
    response: StoredResponse,
    ledger: LedgerEntryInput,
    admitted?: AdmittedPayment,
  ): CommitResult {
    if (typeof paymentId !== "string") return "unknown_payment";
    const row = this.p.store.get(paymentId);
    const reported = settlement && typeof settlement === "object" ? settlement.transaction : null;
    const tx = nonEmptyOrNull(reported) ?? row?.tx ?? null;
    const entry = ledger && typeof ledger === "object" ? ledger : null;
    const settledAt = Math.floor(finiteOr(entry?.settledAt, Date.now()));
    const ledgerRequestId = nonEmptyOrNull(entry?.requestId);
    const givenReceipt = entry?.receipt;
    const receipt = boundedString(givenReceipt, MAX_RECEIPT_LENGTH) ? givenReceipt : null;
    const stored = capStoredResponse(response);
    const given = settlement && typeof settlement === "object" ? settlement.charge : undefined;
    if (row) {
      if (row.status === "settled") return "already_settled";
      const charged = chargeOf(given, row.amount);
      const withCharge = charged ? { ...row, charged: charged.atomic, charge_error: charged.error } : row;
      this.settleRow(withCharge, tx, stored, settledAt, ledgerRequestId ?? row.request_id, false, receipt);
      return "committed";
    }
    const found = admitted ? this.rowFromAdmitted(paymentId, ledgerRequestId, admitted) : null;
    if (!found) return "unknown_payment";
    const charged = chargeOf(given, found.amount);
    const late = charged ? { ...found, charged: charged.atomic, charge_error: charged.error } : found;
    // Its reservation was released already: the amount becomes settled spend without being un-reserved again.
    this.settleRow(late, tx, stored, settledAt, late.request_id, true, receipt);
    console.warn(
      `late commit: payment ${late.id} was released as orphaned before its dispatcher committed; recorded as settled`,
    );
    return "committed_late";
  }

  /**
   * The in-flight row a dispatcher's AdmittedPayment describes (not stored), or null if it is
   * malformed or another payment's.
   */
  private rowFromAdmitted(paymentId: string, requestId: string | null, admitted: AdmittedPayment): PaymentRow | null {
    const cfg = this.p.config.current;
    if (!admitted || typeof admitted !== "object" || cfg === null) return null;
    const rid = requestId ?? (boundedString(admitted.requestId, 256) ? admitted.requestId : "late");
    let claim: PaymentClaim;
    try {
      claim = parseClaim({ caller: "", now: 0, payment: admitted.payment, requestId: rid });
    } catch {
      return null;
    }
    if (claim.id !== paymentId) return null;
    const reservedAt = finiteOr(admitted.reservedAt, Date.now());
    const tenant = cfg.slug;
    const fingerprint = boundedString(admitted.fingerprint, MAX_FINGERPRINT_LENGTH) ? admitted.fingerprint : null;
    const rest = { idemKey: null, dueAt: null, retry: null, fingerprint };
    return newPaymentRow(claim, { requestId: rid, tenant, reservedAt, ...rest });
  }

  /**
   * `recreate`: a late commit, which first inserts the row (same transaction) and does not un-reserve.
   * `row.charged` (an upto payment's actual charge) is what becomes settled spend and the ledger amount.
   */
  private settleRow(
    row: PaymentRow,
    tx: string | null,
    stored: StoredResponse,
    settledAt: number,
    requestId: string,
    recreate: boolean,
    receipt: string | null = null,
  ): void {
    const realNow = Date.now();
    const pruneAt = settledPruneAtMs(realNow, row.valid_before);
    const charged = row.charged ?? row.amount;
    this.p.transactionSync(() => {
      if (recreate) this.p.store.insert(row);
      this.p.store.markSettled(row.id, tx, settledAt, pruneAt, stored);
      if (row.charged !== null) this.p.store.setCharge(row.id, row.charged, row.charge_error);
      this.p.spend.adjust(row, row.amount, recreate ? "settle_unreserved" : "settle", charged);
      this.p.ledger.append(
        {
          paymentId: row.id,
          tenant: row.tenant,
          requestId,
          payer: row.payer,
          payTo: row.pay_to,
          amountAtomic: charged,
          ...(row.charged !== null ? { maxAmountAtomic: row.amount } : {}),
          ...(row.charge_error !== null ? { chargeError: row.charge_error } : {}),
          asset: row.asset,
          network: row.network,
          transaction: tx,
          settledAt,
          receipt,
        },
        realNow,
      );
      this.p.usage.emit({
        requestId,
        ts: row.reserved_at,
        caller: row.payer,
        status: stored.status,
        // Admit to settlement: the paid call as the payer waited for it (tenant + settle).
        latencyMs: Math.max(0, settledAt - row.reserved_at),
        lifecycle: "payment_settled",
        billedAtomic: charged,
      });
    });
    this.p.housekeeping.ensure(pruneAt, realNow);
  }

  /**
   * Applies a reconciliation decision, only if the record is still the one that was asked about
   * (same status and admitting request): while the facilitator answered, the dispatcher may have
   * committed, released or marked it pending, and another request may have admitted it again.
   */
  applyReconcile(asked: PaymentRow, action: ReconcileAction): void {
    const row = this.p.store.get(asked.id);
    if (!row || row.status !== asked.status || row.request_id !== asked.request_id || row.status === "settled") return;
    switch (action.action) {
      case "commit": {
        // The tenant's response kept by markPending is what was paid for; without one (an orphan
        // whose content may never have been computed) the payer gets a receipt.
        const tx = action.transaction ?? row.tx;
        const stored = row.resp_status !== null ? storedResponseOf(row) : reconciledResponse(tx);
        this.settleRow(row, tx, stored, Date.now(), row.request_id, false);
        return;
      }
      case "release":
        this.releaseRow(row);
        return;
      case "hold":
        // An orphaned in-flight payment whose outcome cannot be known any more is exactly a
        // settlement whose outcome is unknown: held like one (operator resolves it).
        this.p.store.hold(row.id);
        return;
      case "retry":
      case "settle": {
        const dueAt = nextReconcileAtMs(Date.now(), row.attempts + 1, row.valid_before);
        const tx = action.action === "retry" && action.transaction ? action.transaction : row.tx;
        this.p.store.retryLater(row.id, dueAt, tx);
        this.p.alarms.arm(dueAt);
        return;
      }
    }
  }

  /**
   * Releases in-flight reservations WITHOUT retry material once they can never settle any more
   * (validBefore + 60 s passed). This is blind (an isolate that died after /settle leaves such a
   * row too), which is why the dispatcher always sends retry material: those rows are reconciled
   * instead and never released here.
   */
  releaseStale(now: number): number {
    const rows = this.p.store.stale(now);
    for (const row of rows) this.releaseRow(row);
    return rows.length;
  }

  /** Operator: held payments (unresolved settlement_pending), oldest first. */
  held(limit: number): PaymentStatusInfo[] {
    const n = Number.isInteger(limit) && limit > 0 ? Math.min(limit, 500) : 100;
    return this.p.store.held(n).map(statusOf);
  }

  /**
   * Operator: resolves a settlement_pending payment (held or still being reconciled) after
   * checking the chain: settled → committed with the kept response (or a receipt) and a ledger
   * row with `transaction`; not settled → released. Throws TypeError on a malformed resolution.
   */
  resolve(paymentId: string, resolution: PaymentResolution): ResolveResult {
    if (!resolution || typeof resolution !== "object" || typeof resolution.settled !== "boolean") {
      throw new TypeError("resolvePayment: resolution must be { settled: boolean, transaction?: string }");
    }
    const given = resolution.settled ? resolution.transaction : undefined;
    if (given !== undefined && !boundedString(given, 130)) {
      throw new TypeError("resolvePayment: transaction must be 1-130 characters");
    }
    const row = typeof paymentId === "string" ? this.p.store.get(paymentId) : undefined;
    if (!row || row.status !== "settlement_pending") return "not_pending";
    if (!resolution.settled) {
      this.releaseRow(row);
      return "released";
    }
    this.applyReconcile(row, { action: "commit", transaction: given ?? null });
    return "committed";
  }

  /** One payment record, or null when unknown (never admitted, released, or pruned). */
  status(paymentId: string): PaymentStatusInfo | null {
    if (typeof paymentId !== "string") return null;
    const row = this.p.store.get(paymentId);
    return row ? statusOf(row) : null;
  }

  /** When payments next need the alarm (stale releases, reconciliation), or null. */
  dueAt(now: number, hasFacilitator: boolean): number | null {
    let next = this.p.store.nextStaleAt() ?? Infinity;
    const pending = this.p.store.nextReconcileAt();
    if (pending !== null) {
      next = Math.min(next, hasFacilitator ? pending : Math.max(pending, now + NO_FACILITATOR_RETRY_MS));
    }
    return Number.isFinite(next) ? next : null;
  }

  /** Housekeeping: stale reservations, settled records past their replay window, old keys. */
  prune(now: number): number | null {
    this.releaseStale(now);
    const settled = this.p.store.pruneSettled(now);
    const keys = this.p.store.pruneKeys(now, IDEMPOTENCY_KEY_TTL_MS);
    if (settled === null) return keys;
    return keys === null ? settled : Math.min(settled, keys);
  }
}
