// Admission of a paid call (docs/ARCHITECTURE.md §3 steps 4-7, §4, §9.2): the first transition of
// the payment book. Checked in this order, synchronously like a free admit; a refusal writes
// nothing:
//   1. payment id known: presented with another request's fingerprint (fingerprint.ts) → 409
//      `payment_request_mismatch`; settled → `payment_replayed` (the stored response); in flight
//      or settlement pending → 409 `payment_in_flight`. Before config and limits: a replay never
//      consumes a token.
//   2. Idempotency-Key or x402 payment-identifier (scoped to tenant and payer) bound to another
//      payment id → 409 `idempotency_key_conflict`.
//   3. tenant_not_configured / tenant_not_found; a provisional admit (asked during /verify with the
//      claimed payer, provisional.ts) for a tenant with a limit keyed by the payer → 409
//      `payer_unverified`; then buckets and quotas as for free calls with caller = the payer.
//   4. spend caps → 402 `spend_cap_exceeded`.
//   5. admitted: the payment row (in_flight) IS the reservation; reserved += amount; tokens and
//      quota counts are taken as for a free call; the retry material is stored with it, which
//      schedules the orphan check (without it: the blind release at validBefore + 60 s).
import type { AlarmScheduler } from "../shared/alarm.ts";
import type { Admission } from "./admission.ts";
import { notConfigured, notFound, requestNow } from "./admission.ts";
import type { ConfigStore } from "./config.ts";
import { dayRowExpiresAt, type Housekeeping } from "./housekeeping.ts";
import { idempotencyKeysOf, parseClaim, retryJson } from "./payment-claim.ts";
import { IDEMPOTENCY_KEY_TTL_MS, inFlightCheckAtMs, staleAtMs } from "./payment-rules.ts";
import { newPaymentRow, type PaymentRow, type PaymentStore, storedResponseOf } from "./payment-store.ts";
import { needsVerifiedPayer, ProvisionalAdmits } from "./provisional.ts";
import { describeExceeded, spendHeaders } from "./spend-caps.ts";
import type { SpendBook } from "./spend-book.ts";
import type { AdmitResult, PaidAdmitRequest, PaymentRefusal } from "./types.ts";

export interface PaidAdmitParts {
  transactionSync: <T>(fn: () => T) => T;
  store: PaymentStore;
  spend: SpendBook;
  config: ConfigStore;
  admission: Admission;
  alarms: AlarmScheduler;
  housekeeping: Housekeeping;
}

/** Step 1: the payment id is already known. */
export function existingPaymentRefusal(row: PaymentRow, configVersion: number): PaymentRefusal {
  if (row.status === "settled") {
    return {
      ok: false,
      code: "payment_replayed",
      status: 200,
      message: "This payment was already settled; this is the stored response.",
      configVersion,
      headers: {},
      stored: storedResponseOf(row),
      transaction: row.tx,
    };
  }
  const pending = row.status === "settlement_pending";
  return {
    ok: false,
    code: "payment_in_flight",
    status: 409,
    message: pending
      ? "This payment's settlement is being confirmed; retry shortly to get the result."
      : "This payment is already being processed by another request; retry shortly to get the result.",
    configVersion,
    headers: { "Retry-After": pending ? "5" : "1" },
  };
}

function requestMismatch(configVersion: number): PaymentRefusal {
  return {
    ok: false,
    code: "payment_request_mismatch",
    status: 409,
    message:
      "This payment was made for a different request (method, path or query). Send it with the request it paid for, " +
      "or sign a new payment for this one.",
    configVersion,
    headers: {},
  };
}

function keyConflict(configVersion: number): PaymentRefusal {
  return {
    ok: false,
    code: "idempotency_key_conflict",
    status: 409,
    message:
      "This Idempotency-Key (or x402 payment-identifier) was already used with a different payment. " +
      "Reuse the original payment, or use a new key.",
    configVersion,
    headers: {},
  };
}

function payerUnverified(configVersion: number): PaymentRefusal {
  const message = "This API limits calls per payer: the payment is admitted once its payer is verified.";
  return { ok: false, code: "payer_unverified", status: 409, message, configVersion, headers: {} };
}

export class PaidAdmit {
  private readonly provisional = new ProvisionalAdmits();

  constructor(private readonly p: PaidAdmitParts) {}

  /** A paid admit (see the file header for the order of checks). Throws TypeError on a malformed request. */
  admit(req: PaidAdmitRequest): AdmitResult | PaymentRefusal {
    const claim = parseClaim(req);
    const retry = req.retry === undefined ? null : retryJson(req.retry, "invalid PaidAdmitRequest: retry");
    const cfg = this.p.config.current;
    const version = cfg?.version ?? 0;

    const existing = this.p.store.get(claim.id);
    if (existing) {
      const bound = existing.fingerprint;
      const mismatch = bound !== null && req.fingerprint !== undefined && req.fingerprint !== bound;
      return mismatch ? requestMismatch(version) : existingPaymentRefusal(existing, version);
    }
    const keys = idempotencyKeysOf(req);
    for (const key of keys) {
      const owner = this.p.store.keyOwner(claim.payer, key);
      if (owner !== null && owner !== claim.id) return keyConflict(version);
    }

    if (cfg === null) return notConfigured();
    if (cfg.deleted) return notFound(cfg);
    if (req.provisional === true && needsVerifiedPayer(cfg)) return payerUnverified(cfg.version);
    const now = requestNow(req.now);
    const check = this.p.admission.check(cfg, claim.payer, now);
    if (!check.ok) return check.refusal;
    const plan = check.plan;

    const spend = this.p.spend.check(cfg.spendCapsAtomic, claim.amountAtomic, claim.payer, now);
    if (!spend.ok) {
      const headers = { ...this.p.admission.headers(cfg, plan, now), ...spendHeaders(spend.caps, 0n) };
      const message = describeExceeded(spend, claim.amountAtomic);
      return { ok: false, code: "spend_cap_exceeded", status: 402, message, configVersion: cfg.version, headers };
    }

    const dueAt = retry !== null ? inFlightCheckAtMs(now, claim.validBefore) : staleAtMs(claim.validBefore);
    const row = newPaymentRow(claim, {
      requestId: req.requestId,
      tenant: cfg.slug,
      reservedAt: now,
      idemKey: keys[0] ?? null,
      dueAt,
      retry,
      fingerprint: req.fingerprint ?? null,
    });
    this.p.transactionSync(() => {
      this.p.store.insert(row);
      this.p.spend.adjust(row, claim.amountAtomic, "reserve");
      for (const key of keys) this.p.store.bindKey(claim.payer, key, claim.id, now);
      this.p.admission.take(plan);
    });
    if (req.provisional === true) {
      this.provisional.remember(claim.id, { requestId: req.requestId, at: Date.now(), now, plan });
    }
    this.p.alarms.arm(dueAt);
    // Spend rows and idempotency keys are pruned by housekeeping (a no-op when one is already due).
    this.p.housekeeping.ensure(keys.length > 0 ? now + IDEMPOTENCY_KEY_TTL_MS : dayRowExpiresAt(now), now);
    const headers = {
      ...this.p.admission.headers(cfg, plan, now),
      ...spendHeaders(spend.caps, BigInt(claim.amountAtomic)),
    };
    return { ok: true, configVersion: cfg.version, headers };
  }

  /**
   * A provisional admit whose /verify failed or named another payer: as if it never happened.
   * The in-flight record that request admitted goes (reservation and keys, like a release), and
   * the tokens and quota counts it took come back. Anything else (settled, pending, admitted by
   * another request, unknown) is left alone. True when a record was withdrawn.
   */
  withdraw(paymentId: string, requestId: string): boolean {
    if (typeof paymentId !== "string" || typeof requestId !== "string") return false;
    const taken = this.provisional.takeBack(paymentId, requestId);
    const row = this.p.store.get(paymentId);
    if (row?.status !== "in_flight" || row.request_id !== requestId) return false;
    this.p.transactionSync(() => {
      this.p.store.delete(row);
      this.p.spend.adjust(row, row.amount, "release");
      if (taken) this.p.admission.giveBack(taken.plan, taken.now);
    });
    return true;
  }
}
