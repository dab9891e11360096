// The contract between the dispatcher and the TenantMeter Durable Object (docs/ARCHITECTURE.md
// §4): what is pushed on configure, what admit takes and returns, the payment book's inputs and
// answers, and the usage record of a finished call.
import type { RateLimitRule } from "../../src/config/tenant-config.ts";
import type { Outcome, Transport } from "../shared/outcomes.ts";

/** The slice of TenantConfig that the meter enforces. Pushed by the control plane on every change. */
export interface MeterConfig {
  slug: string;
  version: number;
  /** True once the tenant is deleted: every admit is refused with `tenant_not_found`. */
  deleted: boolean;
  rateLimit: { perCaller?: RateLimitRule; global?: RateLimitRule };
  usageLimit: { dailyRequests?: number; monthlyRequests?: number };
  spendLimit: { dailyUsd?: number; monthlyUsd?: number; perPayerDailyUsd?: number };
  /** Price of one call in the asset's atomic units, as a decimal string (0 = free). */
  priceAtomic: string;
  /** spendLimit converted to the asset's atomic units (absent = no cap). */
  spendCapsAtomic?: SpendCapsAtomic;
  /** What usage events need besides the call itself; absent = the meter emits no events. */
  events?: { owner: string; directory: string; network: string; env: "prod" | "test" };
}

export interface AdmitRequest {
  /** Identity that limits apply to: verified payer address, or a hash of the client IP. */
  caller: string;
  /** Wall clock in ms since epoch (passed in so tests and the meter agree on windows). */
  now: number;
}

export type RefusalCode = "rate_limited" | "quota_exceeded" | "tenant_not_found" | "tenant_not_configured";

export type AdmitResult =
  | {
      ok: true;
      /** Version of the config the meter enforced; the dispatcher drops its cache if it differs. */
      configVersion: number;
      /** RateLimit-*, X-RateLimit-*, X-Usage-* headers to add to the response. */
      headers: Record<string, string>;
    }
  | {
      ok: false;
      code: RefusalCode;
      status: 404 | 429 | 503;
      message: string;
      configVersion: number;
      headers: Record<string, string>;
      /** For 429s: the Retry-After value in seconds (also in `headers`), for error details and logs. */
      retryAfterSeconds?: number;
    };

/** What `configure` did: `applied` is false for a push older than the stored config (ignored). */
export interface ConfigureResult {
  applied: boolean;
  /** Version in force after the call. */
  version: number;
}

// ─────────────────────────── Leases (lease.ts) ───────────────────────────
// A dispatcher isolate leases tokens for a tenant's global bucket and quotas ("tenant" part) or
// for one caller's bucket ("caller" part) and admits free calls from them without an RPC.

export interface LeaseRequest {
  /** The asking isolate's random id: the meter splits what remains between recent holders. */
  holder: string;
  part: "tenant" | "caller";
  /** The verified caller (IP hash) for the caller part; ignored for the tenant part. */
  caller: string;
  /** Tokens the holder expects to use within the TTL (≥ 1); 0 = only return `returns`. */
  want: number;
  now: number;
  /** Unused tokens of earlier leases, credited back once each (unknown ids are ignored). */
  returns?: LeaseReturn[];
}

export interface LeaseReturn {
  id: string;
  unused: number;
}

/** The state a grant leaves, so the holder can compute the RateLimit and X-Usage headers. */
export interface LeaseSnapshot {
  buckets: { name: "caller" | "global"; rule: RateLimitRule; tokens: number; updatedMs: number }[];
  quotas: { name: "daily" | "monthly"; limit: number; used: number; startMs: number; endMs: number }[];
}

export type LeaseResult =
  | {
      ok: true;
      /** "" for a part without limits (nothing to return). */
      id: string;
      configVersion: number;
      /** Tokens granted; null = this part has no limit (the lease only carries the tenant state). */
      tokens: number | null;
      /** The holder must not admit from the lease at or after this instant (ms since epoch). */
      expiresAt: number;
      snapshot: LeaseSnapshot;
    }
  | Extract<AdmitResult, { ok: false }>;

/** One finished call, as the meter stores it for stats (and later for the leaderboard outbox). */
export interface UsageRecord {
  requestId: string;
  ts: number;
  caller: string;
  /** Caller-supplied label (x-caller-id / x-agent-id): recorded, never used for limits. */
  callerLabel?: string;
  status: number;
  latencyMs: number;
  /**
   * What happened, in the leaderboard's lifecycle terms. `payment_settled` is recorded for stats
   * only: its usage event comes from `commit`, in the same transaction as the settlement.
   */
  outcome: Outcome;
  /**
   * payment_challenged: the challenged request's `requestFingerprint` (fingerprint.ts), so the
   * Leaderboard's funnel counts challenged requests, not 402s (docs/ARCHITECTURE.md §7).
   */
  fingerprint?: string;
  /** How the call arrived: over HTTP (the default) or as an MCP tool call (docs/ARCHITECTURE.md §12). */
  transport?: Transport;
}

export type { Transport } from "../shared/outcomes.ts";

/** Calls (in the `calls` sense of WindowStats) by how they arrived. */
export type TransportCalls = Record<Transport, number>;

export interface MeterStats {
  configVersion: number;
  windows: { today: WindowStats; month: WindowStats; total: WindowStats };
  /** Calls by transport in the same windows (recorded from aggregated usage; older calls count as http). */
  transports: { today: TransportCalls; month: TransportCalls; total: TransportCalls };
}

export interface WindowStats {
  calls: number;
  served: number;
  errors: number;
  refused: number;
  uniqueCallers: number;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
}

// ───────────────────────────────── Payments ─────────────────────────────────
// The dispatcher verifies a payment with the facilitator, then asks the meter to admit it. The
// meter is the tenant's single source of truth for exactly-once: a payment id is admitted at
// most once, reserved against the spend caps until it is committed (settled) or released.

/** Spend caps in the asset's atomic units (decimal strings), derived from spendLimit USD. */
export interface SpendCapsAtomic {
  daily?: string;
  monthly?: string;
  perPayerDaily?: string;
}

/** A verified payment, as the dispatcher presents it to `admit`. */
export interface PaymentClaim {
  /** `${network}:${asset}:${from}:${nonce}`, all lowercase: the payment's identity. */
  id: string;
  amountAtomic: string;
  /** Verified payer address (lowercase). Equal to AdmitRequest.caller for paid calls. */
  payer: string;
  payTo: string;
  network: string;
  asset: string;
  /** EIP-3009 validBefore (seconds since epoch): after it the payment can never settle. */
  validBefore: number;
}

export interface PaidAdmitRequest extends AdmitRequest {
  payment: PaymentClaim;
  requestId: string;
  /** Optional client Idempotency-Key: reused with a different payment id → idempotency_key_conflict. */
  idempotencyKey?: string;
  /**
   * Optional x402 `payment-identifier` id (the client's idempotency key inside the payment
   * payload): bound like idempotencyKey, in its own namespace, so both may be given at once.
   */
  paymentIdentifier?: string;
  /**
   * The facilitator material (paymentPayload, paymentRequirements), stored with the reservation so
   * that the meter can find out on its own whether an in-flight payment settled if the dispatcher
   * never commits or releases it (isolate died after /settle, commit RPC lost). Without it an
   * orphaned reservation can only be released after validBefore + 60 s, blind. The dispatcher
   * always sends it; bounded like markPending's (64 KiB as JSON).
   */
  retry?: SettlementRetry;
  /**
   * The request this payment pays for (method, tenant path, query), as `requestFingerprint`
   * (objects/meter/fingerprint.ts) makes it. Stored with the payment: the same payment presented
   * with another request's fingerprint is refused with 409 `payment_request_mismatch`, never
   * replayed or admitted. Optional for older dispatchers (then nothing is checked).
   */
  fingerprint?: string;
  /**
   * Asked while the dispatcher's /verify is still out, with the payer the payload claims
   * (provisional.ts): refused with `payer_unverified` when a limit is keyed by the payer;
   * withdrawn with `withdrawPaid` if verify does not confirm it.
   */
  provisional?: boolean;
}

/** A response kept for idempotent replay of an already settled payment. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  /** Body as base64; omitted when larger than MAX_STORED_BODY_BYTES (1 MiB). */
  bodyBase64: string | null;
  bodyOmitted: boolean;
}

export type PaymentRefusal =
  | (RefusalBase & { code: "payment_in_flight"; status: 409 })
  | (RefusalBase & { code: "payment_request_mismatch"; status: 409 })
  | (RefusalBase & { code: "payment_replayed"; status: 200; stored: StoredResponse; transaction: string | null })
  | (RefusalBase & { code: "idempotency_key_conflict"; status: 409 })
  | (RefusalBase & { code: "spend_cap_exceeded"; status: 402 })
  /** A provisional admit (provisional.ts) for a tenant with a limit keyed by the payer: admit after verify. */
  | (RefusalBase & { code: "payer_unverified"; status: 409 });

interface RefusalBase {
  ok: false;
  message: string;
  configVersion: number;
  headers: Record<string, string>;
}

/** What the dispatcher reports after /settle succeeded. */
export interface SettlementInfo {
  transaction: string;
  network: string;
  payer: string;
  /** A usage-priced (upto) call: what was actually charged; absent = the reserved amount. */
  charge?: UptoCharge;
}

/**
 * The actual charge of an upto payment (atomic units, ≤ the reserved maximum; "0" settles nothing)
 * and the tenant error of its report, if any (src/payments/charge.ts).
 */
export interface UptoCharge {
  atomic: string;
  error: string | null;
}

export interface LedgerEntryInput {
  requestId: string;
  /** ms since epoch when settle returned. */
  settledAt: number;
  /** The signed offer-receipt receipt (JSON) given to the payer, kept with the ledger row; null: none. */
  receipt?: string | null;
}

// ─────────────────────────── Payments: the book ───────────────────────────

/** Largest response body (decoded bytes) kept for replay; larger bodies are stored as omitted. */
export const MAX_STORED_BODY_BYTES = 1024 * 1024;

/** Lifecycle of a payment record in the meter (a released payment has no record at all). */
export type PaymentState = "in_flight" | "settlement_pending" | "settled";

/** Facilitator material kept by a paid admit or by `markPending`, so the meter's alarm can reconcile the payment. */
export interface SettlementRetry {
  paymentPayload: unknown;
  paymentRequirements: unknown;
  /**
   * Hash the facilitator reported as broadcast, if any (e.g. `errorReason: "settlement_pending"`
   * with a `transaction`). Written to the ledger if the transfer is later found to have happened.
   */
  transaction?: string | null;
  /** markPending of an upto payment: the charge /settle was asked for, committed if it happened. */
  charge?: UptoCharge;
}

/**
 * What `commit` did. The dispatcher may ignore it; `unknown_payment` deserves a loud log.
 * `committed_late`: the record was gone (housekeeping released it as orphaned while this
 * dispatcher was still settling) and was recreated as settled from `AdmittedPayment`.
 */
export type CommitResult = "committed" | "committed_late" | "already_settled" | "unknown_payment";

/**
 * What the dispatcher admitted, passed again with `commit` (and `markPending`) so that a payment
 * whose record was released meanwhile as orphaned (see CommitResult) is still recorded: settled
 * into the ledger, or reserved again as settlement_pending.
 */
export interface AdmittedPayment {
  payment: PaymentClaim;
  /** The admit's `now` (ms): the UTC day/month the amount counts against. */
  reservedAt: number;
  /** The admitting request (the ledger row's request id if `commit` has none). */
  requestId: string;
  /** The admit's fingerprint, if it had one (kept when the record is recreated). */
  fingerprint?: string;
}

/** `paymentStatus`: one payment record, for tests, debugging and operators. */
export interface PaymentStatusInfo extends PaymentClaim {
  status: PaymentState;
  /** What is (or will be) charged: the amount, or an upto payment's actual charge. */
  chargedAtomic: string;
  /** An upto charge report's tenant error (upto_charge_capped, …), or null. */
  chargeError: string | null;
  requestId: string;
  /** The admit's `now` (ms): the UTC day/month the amount counts against. */
  reservedAt: number;
  settledAt: number | null;
  transaction: string | null;
  /**
   * Reconciliation attempts so far and when the next one is due (ms): settlement_pending, and
   * in_flight with retry material (the orphan check); null otherwise.
   */
  attempts: number;
  nextAttemptAt: number | null;
  /** Whether the record carries facilitator material for reconciliation (admit `retry` or markPending). */
  hasRetryMaterial: boolean;
  /**
   * settlement_pending only (an orphaned in-flight payment becomes one when this happens): the
   * payment expired before the facilitator could say whether the transfer happened (x402's
   * verify reports expiry before it checks the nonce). The reservation
   * is kept and automatic retries stop; an operator resolves it with `commit` or
   * `release(id, { includePending: true })` after checking the chain.
   */
  unresolved: boolean;
  hasStoredResponse: boolean;
}

/** `resolvePayment`: what an operator found on the chain about a settlement_pending payment. */
export type PaymentResolution = { settled: true; transaction?: string } | { settled: false };

/** What `resolvePayment` did; `not_pending` when the payment is not (or no longer) settlement_pending. */
export type ResolveResult = "committed" | "released" | "not_pending";

/** `flushOutbox`: rows delivered to D1 by this call, rows still waiting, and the error if a batch failed. */
export interface FlushResult {
  flushed: number;
  remaining: number;
  error?: string;
}

/** Spend in one cap window, in atomic units (decimal strings). */
export interface SpendWindowInfo {
  settled: string;
  reserved: string;
}

/** `spend(now, payer?)`: the windows the caps are checked against. */
export interface SpendInfo {
  day: string;
  month: string;
  daily: SpendWindowInfo;
  monthly: SpendWindowInfo;
  payerDaily?: SpendWindowInfo;
}
