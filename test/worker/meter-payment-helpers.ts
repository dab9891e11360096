// Shared helpers of the TenantMeter payment tests (meter-paid-admit, meter-ledger, meter-pending,
// meter-orphans): configured meters, payment claims, commits, D1 ledger reads, and facilitators
// scripted in the reconciler's terms.
//
// Clock: admits pass `now` a few years in the future, like the free-call tests. The meter's
// alarm runs on the real clock: it may flush the outbox on its own during a test (that is the
// production path and the flush is idempotent), so assertions look at D1 and the outbox, not at
// which flush moved a row.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { expect } from "vitest";
import type { SettleOutcome, VerifyOutcome } from "../../objects/meter/reconcile-decision.ts";
import type { TenantMeter } from "../../objects/meter/tenant-meter.ts";
import type {
  AdmitResult,
  MeterConfig,
  PaidAdmitRequest,
  PaymentClaim,
  PaymentRefusal,
  StoredResponse,
} from "../../objects/meter/types.ts";
import { type Facilitator, FacilitatorUnavailable, SettlementUnknown } from "../../src/x402/facilitator.ts";

export const YEAR = new Date().getUTCFullYear() + 3;
/** 10 June, noon UTC, three years from now. */
export const T0 = Date.UTC(YEAR, 5, 10, 12, 0, 0);
export const SECOND = 1000;
export const DAY = 86_400_000;
export const NETWORK = "eip155:84532";
export const ASSET = "0x036cbd53842c5426634e7929541ec2318f3dcf7e";
export const PAY_TO = "0x" + "b".repeat(40);
export const PAYER_A = "0x" + "a".repeat(40);
export const PAYER_B = "0x" + "c".repeat(40);

export type Meter = DurableObjectStub<TenantMeter>;
export type Outcome = AdmitResult | PaymentRefusal;

let counter = 0;
export function uniqueSlug(prefix: string): string {
  return `${prefix}-${++counter}-${crypto.randomUUID().slice(0, 8)}`;
}

export function cfg(slug: string, overrides: Partial<MeterConfig> = {}): MeterConfig {
  return {
    slug,
    version: 1,
    deleted: false,
    rateLimit: {},
    usageLimit: {},
    spendLimit: {},
    priceAtomic: "1000",
    ...overrides,
  };
}

export async function configured(
  overrides: Partial<MeterConfig> = {},
  prefix = "pay",
): Promise<{ stub: Meter; slug: string }> {
  const slug = uniqueSlug(prefix);
  const stub = env.TENANT_METER.get(env.TENANT_METER.idFromName(slug)) as Meter;
  expect(await stub.configure(cfg(slug, overrides))).toEqual({ applied: true, version: overrides.version ?? 1 });
  return { stub, slug };
}

let nonceCounter = 0;
export function claim(overrides: Partial<PaymentClaim> = {}): PaymentClaim {
  const payer = overrides.payer ?? PAYER_A;
  const nonce = `0x${(++nonceCounter).toString(16).padStart(64, "0")}`;
  return {
    id: `${NETWORK}:${ASSET}:${payer}:${nonce}`,
    amountAtomic: "1000",
    payer,
    payTo: PAY_TO,
    network: NETWORK,
    asset: ASSET,
    validBefore: T0 / 1000 + 300,
    ...overrides,
  };
}

export function paidRequest(payment: PaymentClaim, extra: Partial<PaidAdmitRequest> = {}): PaidAdmitRequest {
  return { caller: payment.payer, now: T0, payment, requestId: `req-${crypto.randomUUID()}`, ...extra };
}

export function admitPaid(stub: Meter, payment: PaymentClaim, extra: Partial<PaidAdmitRequest> = {}): Promise<Outcome> {
  return stub.admitPaid(paidRequest(payment, extra));
}

export function okCount(results: Outcome[]): number {
  return results.filter((r) => r.ok).length;
}

export function codes(results: Outcome[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    const key = r.ok ? "ok" : r.code;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

export function refused(r: Outcome): Extract<Outcome, { ok: false }> {
  if (r.ok) throw new Error("expected a refusal, got an admit");
  return r;
}

export const BODY = btoa(JSON.stringify({ temperature: 21.5 }));
export function response(overrides: Partial<StoredResponse> = {}): StoredResponse {
  return {
    status: 200,
    headers: { "content-type": "application/json" },
    bodyBase64: BODY,
    bodyOmitted: false,
    ...overrides,
  };
}

export function commit(stub: Meter, p: PaymentClaim, tx = `0x${p.id.slice(-8)}`, settledAt = T0) {
  return stub.commit(p.id, { transaction: tx, network: p.network, payer: p.payer }, response(), {
    requestId: `req-${p.id.slice(-6)}`,
    settledAt,
  });
}

/** Runs `fn` inside the object and returns what it threw, as "Name: message" ("" if nothing). */
export function thrownInside(stub: Meter, fn: (meter: TenantMeter) => unknown): Promise<string> {
  return runInDurableObject(stub, (meter: TenantMeter) => {
    try {
      fn(meter);
      return "";
    } catch (err) {
      return String(err);
    }
  });
}

export function sqlCount(stub: Meter, sql: string): Promise<number> {
  return runInDurableObject(stub, (_m, state) => state.storage.sql.exec<{ n: number }>(sql).one().n);
}

export async function ledgerRows(slug: string): Promise<
  {
    payment_id: string;
    amount_atomic: unknown;
    tx_hash: string | null;
    settled_at: number;
    request_id: string;
    payer: string;
  }[]
> {
  const { results } = await env.DB.prepare(
    "SELECT payment_id, amount_atomic, tx_hash, settled_at, request_id, payer FROM ledger WHERE tenant = ? ORDER BY payment_id",
  )
    .bind(slug)
    .all<{
      payment_id: string;
      amount_atomic: unknown;
      tx_hash: string | null;
      settled_at: number;
      request_id: string;
      payer: string;
    }>();
  return results;
}

export async function auditCount(slug: string): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT COUNT(*) AS n FROM audit_log WHERE subject = ? AND action = 'payment.settled' AND dedupe_key LIKE 'settlement:%'",
  )
    .bind(slug)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** Makes D1 refuse this tenant's ledger rows for real (a trigger that aborts the insert). */
export async function ledgerOffline(slug: string, offline: boolean): Promise<void> {
  const name = `ledger_offline_${slug.replace(/[^a-z0-9]/g, "_")}`;
  if (offline) {
    await env.DB.prepare(
      `CREATE TRIGGER ${name} BEFORE INSERT ON ledger WHEN NEW.tenant = '${slug}' BEGIN SELECT RAISE(ABORT, 'ledger offline'); END`,
    ).run();
  } else {
    await env.DB.prepare(`DROP TRIGGER ${name}`).run();
  }
}

// ───────────── Orphaned in-flight payments (the dispatcher commits in waitUntil) ─────────────

/** What the dispatcher stores at admit. The payload names the payment so a fake facilitator can tell calls apart. */
export function retryFor(p: PaymentClaim) {
  return {
    paymentPayload: { x402Version: 2, payload: { authorization: { nonce: p.id } } },
    paymentRequirements: { scheme: "exact", amount: p.amountAtomic },
  };
}

export function admitWithRetry(stub: Meter, p: PaymentClaim, extra: Partial<PaidAdmitRequest> = {}): Promise<Outcome> {
  return admitPaid(stub, p, { retry: retryFor(p), ...extra });
}

export const USED: VerifyOutcome = { ok: true, isValid: false, invalidReason: "invalid_exact_evm_nonce_already_used" };
export const UNUSED: VerifyOutcome = { ok: true, isValid: true };
export const UNREACHABLE: VerifyOutcome = { ok: false };
export const EXPIRED: VerifyOutcome = {
  ok: true,
  isValid: false,
  invalidReason: "invalid_exact_evm_payload_authorization_valid_before",
};

/**
 * A Facilitator (src/x402/facilitator.ts) scripted in decision terms: `{ ok: false }` is thrown as
 * the real client throws it (FacilitatorUnavailable, SettlementUnknown), anything else answered.
 */
export function scripted(
  verify: (payload: PaymentPayload, requirements: PaymentRequirements) => VerifyOutcome | Promise<VerifyOutcome>,
  settle: (
    payload: PaymentPayload,
    requirements: PaymentRequirements,
  ) => SettleOutcome | Promise<SettleOutcome> = () => ({ ok: false }),
): Facilitator {
  return {
    verify: async (payload, requirements) => {
      const v = await verify(payload, requirements);
      if (!v.ok) throw new FacilitatorUnavailable("scripted: unreachable");
      return v.invalidReason === undefined
        ? { isValid: v.isValid }
        : { isValid: v.isValid, invalidReason: v.invalidReason };
    },
    settle: async (payload, requirements) => {
      const s = await settle(payload, requirements);
      if (!s.ok) throw new SettlementUnknown("scripted: unreachable");
      return {
        success: s.success,
        transaction: s.transaction ?? "",
        network: "",
        ...(s.errorReason !== undefined ? { errorReason: s.errorReason } : {}),
      };
    },
    supports: async () => true,
  };
}

/** A facilitator that answers /verify per payment and records what it was asked; /settle must never be called for an orphan. */
export function fakeFacilitator(answer: (paymentId: string) => VerifyOutcome, calls: string[] = []): Facilitator {
  return scripted(
    (payload) => {
      const id = (payload as unknown as { payload: { authorization: { nonce: string } } }).payload.authorization.nonce;
      calls.push(`verify ${id}`);
      return answer(id);
    },
    () => {
      calls.push("settle");
      return { ok: false };
    },
  );
}

export function reconcileAt(stub: Meter, now: number, client: Facilitator) {
  return runInDurableObject(stub, (m: TenantMeter) => m.reconcilePending(now, client));
}

export async function flushedLedger(stub: Meter, slug: string) {
  expect((await stub.flushOutbox()).remaining).toBe(0);
  return ledgerRows(slug);
}
