// TenantMeter: one SQLite-backed Durable Object per tenant, the exact source of truth for its
// free-call limits (DESIGN §4, §9.1) and its usage stats. It owns the tenant's meter config,
// token buckets (per caller and global), daily/monthly quota counters, hourly usage aggregates
// and per-day distinct callers. The math lives in limits.ts; this file is storage and ordering.
//
// Why admits are exact: `admit` is synchronous from its first read to its last write (only
// `ctx.storage.sql`, no `await`), and a Durable Object runs one event at a time, so N admits in
// flight are serialised and can never see the same token or counter twice.
//
// Why it is fast: config, bucket states and the current quota counters live in memory; SQLite
// is the durable copy, written through on every admitted call (a refusal writes nothing). A
// warm admit is therefore only 1-4 single-row UPSERTs on primary keys and no reads. A tenant
// without limits writes nothing at all on admit.
//
// Schema (all tables keyed so every hot statement is a primary-key lookup):
//   meta(key PK, value)                              'config' = MeterConfig JSON, 'callers_total'
//   buckets(kind, caller, tokens, updated_ms)        kind 'c' per caller, 'g' global (caller '');
//                                                    a missing row means a full bucket
//   quota_counts(kind, period, count)                kind 'd' period '2026-11-23', kind 'm' '2026-11'
//   usage_hourly(hour PK, calls, served, errors, refused, h0..h13)   hour = epoch hours; h* = latency histogram
//   caller_days(day, caller, label)                  distinct callers per UTC day (label is data only)
//   callers(caller PK, first_seen_ms)                every caller ever seen, for the all-time unique count
//
// Quota counters run only while a quota is configured. When one is switched on, the current
// window's counter (by the object's clock) starts from the admitted calls already recorded in
// the hourly stats, so a quota added mid-day counts the whole day.
//
// When a call is refused by a bucket and a quota at once, it is reported as `rate_limited`
// (buckets are checked first); the X-Usage-* headers still show the exhausted quota.
//
// Stats (from `record`): calls = every record; served = outcome "served"; errors = status ≥ 500
// or outcome "tenant_error" (may overlap served); refused = rate_limited + quota_exceeded.
// Latency percentiles cover admitted calls only: a refusal never reached the tenant.
//
// Payments (DESIGN §3 steps 4-7, §9.2-4). A paid admit (`admit` with `payment`) is checked in
// this order, each step synchronous like the free path, and a refusal writes nothing:
//   1. payment id known: settled → `payment_replayed` (the stored response); in flight or
//      settlement pending → 409 `payment_in_flight`. Before config and limits: a replay never
//      consumes a token.
//   2. Idempotency-Key (scoped to tenant and payer) bound to another payment id → 409
//      `idempotency_key_conflict`.
//   3. tenant_not_configured / tenant_not_found, then buckets and quotas as for free calls with
//      caller = the verified payer.
//   4. spend caps (spend.ts) → 402 `spend_cap_exceeded`.
//   5. admitted: the payment row (status in_flight) IS the reservation; spend counters get
//      reserved += amount; tokens and quota counts are taken as for a free call. The admit's
//      `retry` material (paymentPayload + paymentRequirements) is stored with it.
// `release` deletes an in-flight row (reserved -= amount; the payer may present the same signed
// payment again); tokens and quota counts are not refunded, as for a failed free call. With a
// `requestId` it only deletes the row that request admitted.
// `markPending` keeps the reservation and stores the facilitator material; the alarm reconciles
// (payments.ts has the decision). `commit` turns the reservation into settled spend, keeps the
// response for replays and writes the ledger row into the outbox, all in one transaction; the
// alarm delivers the outbox to D1 (idempotent insert keyed by payment id) and deletes rows only
// after D1 accepted them, so a settlement reaches the ledger exactly once even if D1 is down.
//
// The dispatcher commits in waitUntil, after the response went out, so an isolate that dies
// between a successful /settle and the commit leaves an in-flight row behind. Such an orphan is
// found by the alarm (IN_FLIGHT_CHECK_AFTER_MS after the admit, sooner if validBefore is close)
// and reconciled with its stored retry material while /verify can still tell: nonce used →
// committed (ledger row, transaction unknown), unused → released (never settled, never served),
// facilitator unreachable → retried, still unknown after expiry → held as an unresolved
// settlement_pending record, never released blind. A dispatcher that is merely slow and commits
// after such a release passes what it admitted (`AdmittedPayment`) and the settlement is
// recorded anyway ("committed_late"; a settle that timed out is reserved again as
// settlement_pending by `markPending`). In-flight rows without retry material (older callers)
// keep the old rule: released at validBefore + 60 s.
//
//   payments(id PK, status, amount, payer, ..., day, month, due_at, retry, resp_*)
//                                                    status in_flight | settlement_pending | settled;
//                                                    due_at: in_flight → orphan check (with retry
//                                                    material) or stale release time (without),
//                                                    pending → next reconciliation, settled → prune time
//   spend(kind, period, payer, settled, reserved)    kind 'd' tenant day, 'm' tenant month, 'p' payer day
//                                                    (payer '' for tenant rows); decimal strings, bigint math
//   idempotency_keys(payer, key, payment_id, created_ms)
//   outbox(seq PK, kind, body, created_ms)           'ledger' rows waiting for D1
// A payment counts in the UTC day and month of its admit, also when it settles after midnight.
// Spend counters run whether or not caps are configured, so a cap switched on mid-day counts
// the whole day.
//
// One alarm (real clock) serves everything: outbox flush (200 ms after a commit; on a D1 error
// 1 s doubling to 60 s), orphaned in-flight reservations and pending settlements (reconciled
// with FACILITATOR_URL; without it they just wait), in-flight reservations without retry
// material (validBefore + 60 s: released), and housekeeping,
// which runs only when `housekeepAt` is due. Retention: settled records (and their stored
// responses) from a day to a week (until validBefore + 60 s if within that), idempotency keys
// 24 h, spend day rows like the daily quota counters, month rows like the monthly ones.
import { DurableObject } from "cloudflare:workers";
import * as v from "valibot";
import { RateLimitSchema, SpendLimitSchema, UsageLimitSchema, type RateLimitRule } from "../src/config/tenant-config.ts";
import { bucketCapacity, type BucketState, type BucketStatus, fullAtMs, fullBucket, hasToken, meterHeaders, type QuotaStatus, refill, secondsUntilToken, take } from "./limits.ts";
import { DAY_MS, nextUtcDayStartMs, nextUtcMonthStartMs, secondsUntil, utcDayKey, utcDayStartMs, utcHour, utcMonthKey, utcMonthStartMs } from "./shared/time.ts";
import { estimatePercentile, LATENCY_BUCKETS, latencyBucket } from "./shared/histogram.ts";
import type {
  AdmitRequest,
  AdmitResult,
  AdmittedPayment,
  CommitResult,
  ConfigureResult,
  FlushResult,
  LedgerEntryInput,
  MeterConfig,
  MeterStats,
  PaidAdmitRequest,
  PaymentClaim,
  PaymentRefusal,
  PaymentState,
  PaymentStatusInfo,
  SettlementInfo,
  SettlementRetry,
  SpendInfo,
  StoredResponse,
  UsageRecord,
  WindowStats,
} from "./meter-types.ts";
import {
  capStoredResponse,
  decideReconcile,
  facilitatorBody,
  flushBackoffMs,
  IDEMPOTENCY_KEY_TTL_MS,
  inFlightCheckAtMs,
  nextReconcileAtMs,
  parseSettleResponse,
  parseVerifyResponse,
  reconciledResponse,
  type ReconcileAction,
  type SettleOutcome,
  settledPruneAtMs,
  staleAtMs,
  type VerifyOutcome,
} from "./payments.ts";
import { leaderboardFor } from "./leaderboard/shards.ts";
import { isOutcome, OUTCOME_TRAITS } from "./shared/outcomes.ts";
import { usageEventFor, type CallOutcome } from "./shared/usage-event.ts";
import { addAtomic, ATOMIC_PATTERN, subAtomicClamped } from "./shared/money.ts";
import { checkSpendCaps, describeExceeded, spendHeaders, type SpendWindow } from "./spend.ts";

/** Per-day caller rows (and daily counters) are kept this long: a month of uniques plus slack. */
const CALLER_DAYS_RETENTION = 40;
/** Monthly counters older than this many months are dropped. */
const MONTH_RETENTION = 13;
/** Housekeeping is never sooner than this after the last run: pruning is about space, not time. */
const PRUNE_MIN_DELAY_MS = 15 * 60_000;
/** In-memory caller buckets kept warm; the oldest are dropped (SQLite still has them). */
const MAX_CACHED_CALLERS = 10_000;
const MAX_LABEL_LENGTH = 128;
/** Outbox rows per D1 batch (two statements per batch whatever the size: see flushBatch). */
const OUTBOX_BATCH = 100;
/** Batches per flush call; more rows than that are left for an immediate next alarm. */
const MAX_BATCHES_PER_FLUSH = 10;
/** A commit schedules the flush this soon, so a burst of commits shares one D1 batch. */
const FLUSH_DELAY_MS = 200;
/** Usage events wait this long so one delivery carries many calls (one RPC, one transaction). */
const USAGE_FLUSH_DELAY_MS = 1000;
const USAGE_BATCH = 500;
const MAX_USAGE_BATCHES = 20;
/** Pending payments reconciled per alarm run (each is one or two facilitator calls). */
const RECONCILE_BATCH = 10;
/** Without FACILITATOR_URL pending payments are only looked at again this often. */
const NO_FACILITATOR_RETRY_MS = 5 * 60_000;
const FACILITATOR_TIMEOUT_MS = 10_000;
/** Retry material larger than this is refused by admit and markPending (a payload is ~1 KiB). */
const MAX_RETRY_BYTES = 64 * 1024;
const MAX_ID_LENGTH = 512;
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

const AtomicSchema = v.pipe(v.string(), v.regex(ATOMIC_PATTERN, "must be a non-negative integer string"));

const MeterConfigSchema = v.object({
  slug: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  version: v.pipe(v.number(), v.integer(), v.minValue(1)),
  deleted: v.boolean(),
  rateLimit: RateLimitSchema,
  usageLimit: UsageLimitSchema,
  spendLimit: SpendLimitSchema,
  priceAtomic: v.pipe(v.string(), v.regex(/^\d{1,78}$/, "priceAtomic must be a non-negative integer string")),
  spendCapsAtomic: v.optional(
    v.object({ daily: v.optional(AtomicSchema), monthly: v.optional(AtomicSchema), perPayerDaily: v.optional(AtomicSchema) }),
  ),
  events: v.optional(
    v.object({
      owner: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
      directory: v.pipe(v.string(), v.maxLength(64)),
      network: v.pipe(v.string(), v.maxLength(64)),
      env: v.picklist(["prod", "test"]),
    }),
  ),
});


const HIST_COLUMNS = Array.from({ length: LATENCY_BUCKETS }, (_, i) => `h${i}`);

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS buckets (
  kind TEXT NOT NULL, caller TEXT NOT NULL, tokens REAL NOT NULL, updated_ms INTEGER NOT NULL,
  PRIMARY KEY (kind, caller)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quota_counts (
  kind TEXT NOT NULL, period TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (kind, period)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS usage_hourly (
  hour INTEGER PRIMARY KEY,
  calls INTEGER NOT NULL DEFAULT 0, served INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0, refused INTEGER NOT NULL DEFAULT 0,
  ${HIST_COLUMNS.map((c) => `${c} INTEGER NOT NULL DEFAULT 0`).join(", ")}
);
CREATE TABLE IF NOT EXISTS caller_days (
  day TEXT NOT NULL, caller TEXT NOT NULL, label TEXT,
  PRIMARY KEY (day, caller)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS callers (caller TEXT PRIMARY KEY, first_seen_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS payments (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  amount TEXT NOT NULL, payer TEXT NOT NULL, pay_to TEXT NOT NULL, network TEXT NOT NULL, asset TEXT NOT NULL,
  valid_before INTEGER NOT NULL, request_id TEXT NOT NULL, tenant TEXT NOT NULL,
  reserved_at INTEGER NOT NULL, day TEXT NOT NULL, month TEXT NOT NULL, idem_key TEXT,
  due_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0, retry TEXT, unresolved INTEGER NOT NULL DEFAULT 0,
  settled_at INTEGER, tx TEXT,
  resp_status INTEGER, resp_headers TEXT, resp_body TEXT, resp_omitted INTEGER
);
CREATE INDEX IF NOT EXISTS payments_due ON payments (status, due_at);
CREATE TABLE IF NOT EXISTS spend (
  kind TEXT NOT NULL, period TEXT NOT NULL, payer TEXT NOT NULL,
  settled TEXT NOT NULL, reserved TEXT NOT NULL,
  PRIMARY KEY (kind, period, payer)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idempotency_keys (
  payer TEXT NOT NULL, key TEXT NOT NULL, payment_id TEXT NOT NULL, created_ms INTEGER NOT NULL,
  PRIMARY KEY (payer, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_ms);
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL, created_ms INTEGER NOT NULL);
`;

const SQL_BUCKET_GET = "SELECT tokens, updated_ms FROM buckets WHERE kind = ? AND caller = ?";
const SQL_BUCKET_PUT =
  "INSERT INTO buckets (kind, caller, tokens, updated_ms) VALUES (?, ?, ?, ?) " +
  "ON CONFLICT (kind, caller) DO UPDATE SET tokens = excluded.tokens, updated_ms = excluded.updated_ms";
const SQL_QUOTA_GET = "SELECT count FROM quota_counts WHERE kind = ? AND period = ?";
const SQL_QUOTA_PUT =
  "INSERT INTO quota_counts (kind, period, count) VALUES (?, ?, ?) ON CONFLICT (kind, period) DO UPDATE SET count = excluded.count";
const HOURLY_BASE = "INSERT INTO usage_hourly (hour, calls, served, errors, refused";
const HOURLY_UPDATE = "ON CONFLICT (hour) DO UPDATE SET calls = calls + 1, served = served + excluded.served, errors = errors + excluded.errors, refused = refused + excluded.refused";
/** One statement per latency bucket (column names come from a fixed list, never from input). */
const SQL_HOURLY_WITH_LATENCY = HIST_COLUMNS.map((c) => `${HOURLY_BASE}, ${c}) VALUES (?, 1, ?, ?, ?, 1) ${HOURLY_UPDATE}, ${c} = ${c} + 1`);
const SQL_HOURLY_NO_LATENCY = `${HOURLY_BASE}) VALUES (?, 1, ?, ?, ?) ${HOURLY_UPDATE}`;
const SQL_HOURLY_SUM = `SELECT COALESCE(SUM(calls), 0) AS calls, COALESCE(SUM(served), 0) AS served, COALESCE(SUM(errors), 0) AS errors, COALESCE(SUM(refused), 0) AS refused, ${HIST_COLUMNS.map((c) => `COALESCE(SUM(${c}), 0) AS ${c}`).join(", ")} FROM usage_hourly`;

type BucketKind = "c" | "g";
type QuotaKind = "d" | "m";
/** Spend counter rows: tenant day, tenant month, payer day. */
type SpendKind = "d" | "m" | "p";

const SQL_PAYMENT_GET = "SELECT * FROM payments WHERE id = ?";
/** Records the alarm asks the facilitator about: pending settlements and in-flight payments with retry material. */
const RECONCILABLE = "(status = 'settlement_pending' OR (status = 'in_flight' AND retry IS NOT NULL))";
const SQL_SPEND_GET = "SELECT settled, reserved FROM spend WHERE kind = ? AND period = ? AND payer = ?";
const SQL_SPEND_PUT =
  "INSERT INTO spend (kind, period, payer, settled, reserved) VALUES (?, ?, ?, ?, ?) " +
  "ON CONFLICT (kind, period, payer) DO UPDATE SET settled = excluded.settled, reserved = excluded.reserved";

/**
 * D1 statements of one outbox batch: each takes the whole batch as one JSON array (json_each),
 * so a batch is two statements whatever its size and stays under D1's bound-parameter limit.
 * ON CONFLICT DO NOTHING (not OR IGNORE): only a duplicate payment id / dedupe key is skipped; a
 * NOT NULL or CHECK failure fails the batch instead of silently dropping a ledger row.
 * (`WHERE true` resolves SQLite's parsing ambiguity between a join's ON and upsert's ON CONFLICT.)
 */
const D1_LEDGER_INSERT = `INSERT INTO ledger (payment_id, tenant, request_id, payer, pay_to, amount_atomic, asset, network, tx_hash, settled_at, recorded_at)
SELECT json_extract(value, '$.paymentId'), json_extract(value, '$.tenant'), json_extract(value, '$.requestId'), json_extract(value, '$.payer'),
  json_extract(value, '$.payTo'), json_extract(value, '$.amountAtomic'), json_extract(value, '$.asset'), json_extract(value, '$.network'),
  json_extract(value, '$.transaction'), json_extract(value, '$.settledAt'), ?2
FROM json_each(?1) WHERE true
ON CONFLICT (payment_id) DO NOTHING`;
const D1_AUDIT_INSERT = `INSERT INTO audit_log (ts, actor, action, subject, request_id, detail, dedupe_key)
SELECT json_extract(value, '$.settledAt'), 'meter', 'payment.settled', json_extract(value, '$.tenant'), json_extract(value, '$.requestId'),
  json_object('paymentId', json_extract(value, '$.paymentId'), 'amountAtomic', json_extract(value, '$.amountAtomic'),
    'payer', json_extract(value, '$.payer'), 'payTo', json_extract(value, '$.payTo'), 'network', json_extract(value, '$.network'),
    'asset', json_extract(value, '$.asset'), 'transaction', json_extract(value, '$.transaction')),
  'settlement:' || json_extract(value, '$.paymentId')
FROM json_each(?1) WHERE true
ON CONFLICT (dedupe_key) DO NOTHING`;

/** One row of `payments`, as SQLite returns it (a type alias: SqlStorage wants an index-compatible type). */
type PaymentRow = {
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
};

/** A ledger row as it waits in the outbox (JSON in `outbox.body`). */
interface LedgerOutboxEntry {
  paymentId: string;
  tenant: string;
  requestId: string;
  payer: string;
  payTo: string;
  amountAtomic: string;
  asset: string;
  network: string;
  transaction: string | null;
  settledAt: number;
}

/** The facilitator as reconciliation sees it (an HTTP client in production, a fake in tests). */
export interface FacilitatorClient {
  verify(body: unknown): Promise<VerifyOutcome>;
  settle(body: unknown): Promise<SettleOutcome>;
}

/** Plain fetch with a timeout; anything but a 200 with a well-formed body is `ok: false` (retry later). */
export function httpFacilitator(baseUrl: string, fetchImpl: typeof fetch = fetch): FacilitatorClient {
  const base = baseUrl.replace(/\/+$/, "");
  const post = async (path: string, body: unknown): Promise<unknown> => {
    try {
      const res = await fetchImpl(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(FACILITATOR_TIMEOUT_MS),
      });
      if (res.status !== 200) {
        await res.body?.cancel();
        return null;
      }
      return await res.json();
    } catch {
      return null;
    }
  };
  return {
    verify: async (body) => parseVerifyResponse(await post("/verify", body)),
    settle: async (body) => parseSettleResponse(await post("/settle", body)),
  };
}

/** Limits found to allow a call, to be taken once every other check passed. */
interface LimitPlan {
  caller: string;
  callerState: BucketState | undefined;
  globalState: BucketState | undefined;
  day: WindowCounter | null;
  month: WindowCounter | null;
}

/** A quota window's counter as cached in memory: valid for now in [startMs, endMs). */
interface WindowCounter {
  period: string;
  startMs: number;
  endMs: number;
  count: number;
}

function sameRule(a: RateLimitRule | undefined, b: RateLimitRule | undefined): boolean {
  if (!a || !b) return a === b;
  return a.requests === b.requests && a.windowSeconds === b.windowSeconds && bucketCapacity(a) === bucketCapacity(b);
}

function describeRule(rule: RateLimitRule): string {
  const burst = rule.burst !== undefined ? `, burst ${rule.burst}` : "";
  return `${rule.requests} requests per ${rule.windowSeconds} s${burst}`;
}

function emptyWindow(): WindowStats {
  return { calls: 0, served: 0, errors: 0, refused: 0, uniqueCallers: 0, p50LatencyMs: null, p95LatencyMs: null };
}

export class TenantMeter extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private config: MeterConfig | null = null;
  private callerBuckets = new Map<string, BucketState>();
  /** undefined = not loaded yet from SQLite. */
  private globalBucket: BucketState | undefined;
  private dayCounter: WindowCounter | null = null;
  private monthCounter: WindowCounter | null = null;
  /** Mirror of the scheduled alarm, so admits can decide without an async getAlarm(). */
  private alarmAt: number | null = null;
  /**
   * When housekeeping (pruning) is next due, or null if nothing is scheduled. The one alarm also
   * serves payments (outbox flush, stale reservations, reconciliation), so an alarm run does
   * housekeeping only when this is due. After a restart it starts as the stored alarm time.
   */
  private housekeepAt: number | null = null;
  /** Flushes run one after another (an alarm and an RPC never send the same rows twice at once). */
  private flushChain: Promise<unknown> = Promise.resolve();
  private flushFailures = 0;
  /** While D1 is failing: no flush alarm before this (commits must not defeat the backoff). */
  private flushRetryAt: number | null = null;
  private usageFailures = 0;
  private usageRetryAt: number | null = null;
  /** In-memory hint that usage events wait, so the alarm path avoids a COUNT(*) per call. */
  private usageWaiting = false;
  /** Pending payments with a facilitator call in progress. */
  private reconciling = new Set<string>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'config'").toArray()[0];
    this.config = row ? (JSON.parse(row.value) as MeterConfig) : null;
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
      this.housekeepAt = this.alarmAt;
    });
  }

  // -------------------------------------------------------------------------------------------
  // configure

  configure(input: MeterConfig): ConfigureResult {
    const parsed = v.safeParse(MeterConfigSchema, input);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      const path = issue.path?.map((p) => String(p.key)).join(".") ?? "";
      throw new TypeError(`invalid MeterConfig${path ? ` at ${path}` : ""}: ${issue.message}`);
    }
    const next: MeterConfig = parsed.output;
    const prev = this.config;
    if (prev && next.version < prev.version) return { applied: false, version: prev.version };

    const now = Date.now();
    this.sql.exec("INSERT INTO meta (key, value) VALUES ('config', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", JSON.stringify(next));
    this.applyRuleChange("c", prev?.rateLimit.perCaller, next.rateLimit.perCaller);
    this.applyRuleChange("g", prev?.rateLimit.global, next.rateLimit.global);
    if (next.usageLimit.dailyRequests !== undefined && prev?.usageLimit.dailyRequests === undefined) this.seedQuota("d", now);
    if (next.usageLimit.monthlyRequests !== undefined && prev?.usageLimit.monthlyRequests === undefined) this.seedQuota("m", now);
    this.config = next;
    return { applied: true, version: next.version };
  }

  /**
   * Existing states carry over to a changed rule (raising a limit does not hand out fresh
   * buckets), clamped to the new capacity; without a rule the rows mean nothing and go.
   * refill() would clamp on the next admit anyway; clamping here keeps every stored row within
   * capacity, which the prune query assumes.
   */
  private applyRuleChange(kind: BucketKind, prev: RateLimitRule | undefined, next: RateLimitRule | undefined): void {
    if (sameRule(prev, next)) return;
    if (!next) {
      this.sql.exec("DELETE FROM buckets WHERE kind = ?", kind);
    } else {
      this.sql.exec("UPDATE buckets SET tokens = ? WHERE kind = ? AND tokens > ?", bucketCapacity(next), kind, bucketCapacity(next));
    }
    // The cache reloads clamped rows on demand; clearing is simpler than clamping in two places.
    if (kind === "c") this.callerBuckets.clear();
    else this.globalBucket = undefined;
  }

  /** A quota switched on mid-window starts from the admitted calls already recorded in stats. */
  private seedQuota(kind: QuotaKind, now: number): void {
    const start = kind === "d" ? utcDayStartMs(now) : utcMonthStartMs(now);
    const end = kind === "d" ? nextUtcDayStartMs(now) : nextUtcMonthStartMs(now);
    const period = kind === "d" ? utcDayKey(now) : utcMonthKey(now);
    const recorded = this.sql
      .exec<{ n: number }>("SELECT COALESCE(SUM(calls - refused), 0) AS n FROM usage_hourly WHERE hour >= ? AND hour < ?", utcHour(start), utcHour(end))
      .one().n;
    const stored = this.sql.exec<{ count: number }>(SQL_QUOTA_GET, kind, period).toArray()[0]?.count ?? 0;
    this.sql.exec(SQL_QUOTA_PUT, kind, period, Math.max(recorded, stored));
    if (kind === "d") this.dayCounter = null;
    else this.monthCounter = null;
  }

  // -------------------------------------------------------------------------------------------
  // admit (hot path: synchronous, no await anywhere)

  // The RPC stub type only sees the LAST overload, and the free signature must stay as it was
  // (the dispatcher and tests type free admits as AdmitResult). Paid callers get the precise
  // union from `admitPaid`, which is the same code; `admit` with `payment` works at runtime too.
  admit(req: AdmitRequest | PaidAdmitRequest): AdmitResult | PaymentRefusal;
  admit(req: AdmitRequest): AdmitResult;
  admit(req: AdmitRequest | PaidAdmitRequest): AdmitResult | PaymentRefusal {
    if ("payment" in req && req.payment !== undefined) return this.admitPaid(req);
    const cfg = this.config;
    if (cfg === null) return notConfigured();
    if (cfg.deleted) return notFound(cfg);
    const now = typeof req.now === "number" && Number.isFinite(req.now) ? req.now : Date.now();
    const check = this.checkLimits(cfg, String(req.caller), now);
    if (!check.ok) return check.refusal;
    const plan = check.plan;
    this.takeLimits(plan);
    if (this.housekeepAt === null && (plan.callerState || plan.globalState || plan.day)) this.scheduleHousekeeping(now, plan.callerState, plan.globalState);
    return { ok: true, configVersion: cfg.version, headers: this.headers(cfg, now, plan.callerState, plan.globalState, plan.day, plan.month) };
  }

  /** Buckets and quotas (steps 1-2 of a free admit): reads only, so a refusal consumes nothing. */
  private checkLimits(cfg: MeterConfig, caller: string, now: number): { ok: true; plan: LimitPlan } | { ok: false; refusal: Extract<AdmitResult, { ok: false }> } {
    const perCaller = cfg.rateLimit.perCaller;
    const global = cfg.rateLimit.global;
    const daily = cfg.usageLimit.dailyRequests;
    const monthly = cfg.usageLimit.monthlyRequests;

    // 1. Buckets: both are checked before either is taken from, so a refusal consumes nothing.
    let callerState: BucketState | undefined;
    let globalState: BucketState | undefined;
    let bucketRetry = 0;
    const emptyBuckets: string[] = [];
    if (perCaller) {
      callerState = refill(this.loadCallerBucket(caller, perCaller, now), perCaller, now);
      if (!hasToken(callerState)) {
        bucketRetry = Math.max(bucketRetry, secondsUntilToken(callerState, perCaller));
        emptyBuckets.push(`per-caller limit (${describeRule(perCaller)})`);
      }
    }
    if (global) {
      globalState = refill(this.loadGlobalBucket(global, now), global, now);
      if (!hasToken(globalState)) {
        bucketRetry = Math.max(bucketRetry, secondsUntilToken(globalState, global));
        emptyBuckets.push(`global limit (${describeRule(global)})`);
      }
    }

    // 2. Quotas (count < limit), read from the cached counter of the current UTC window.
    const day = daily !== undefined ? this.windowCounter("d", now) : null;
    const month = monthly !== undefined ? this.windowCounter("m", now) : null;

    if (emptyBuckets.length > 0) {
      const message = `Rate limit exceeded: ${emptyBuckets.join(" and ")}. Retry in ${bucketRetry} s.`;
      return { ok: false, refusal: this.refusal(cfg, "rate_limited", message, bucketRetry, now, callerState, globalState, day, month) };
    }
    let quotaRetry = 0;
    const exhausted: string[] = [];
    if (day && daily !== undefined && day.count >= daily) {
      quotaRetry = Math.max(quotaRetry, secondsUntil(day.endMs, now));
      exhausted.push(`daily quota of ${daily} requests`);
    }
    if (month && monthly !== undefined && month.count >= monthly) {
      quotaRetry = Math.max(quotaRetry, secondsUntil(month.endMs, now));
      exhausted.push(`monthly quota of ${monthly} requests`);
    }
    if (exhausted.length > 0) {
      const message = `This API's ${exhausted.join(" and ")} is used up. Resets in ${quotaRetry} s.`;
      return { ok: false, refusal: this.refusal(cfg, "quota_exceeded", message, quotaRetry, now, callerState, globalState, day, month) };
    }
    return { ok: true, plan: { caller, callerState, globalState, day, month } };
  }

  /** 3. Admitted: take and count, SQLite first so memory never runs ahead of the durable copy. */
  private takeLimits(plan: LimitPlan): void {
    const { caller, day, month } = plan;
    if (plan.callerState) {
      plan.callerState = take(plan.callerState);
      this.sql.exec(SQL_BUCKET_PUT, "c", caller, plan.callerState.tokens, plan.callerState.updatedMs);
      this.cacheCallerBucket(caller, plan.callerState);
    }
    if (plan.globalState) {
      plan.globalState = take(plan.globalState);
      this.sql.exec(SQL_BUCKET_PUT, "g", "", plan.globalState.tokens, plan.globalState.updatedMs);
      this.globalBucket = plan.globalState;
    }
    if (day) {
      this.sql.exec(SQL_QUOTA_PUT, "d", day.period, day.count + 1);
      day.count += 1;
    }
    if (month) {
      this.sql.exec(SQL_QUOTA_PUT, "m", month.period, month.count + 1);
      month.count += 1;
    }
  }

  private refusal(
    cfg: MeterConfig,
    code: "rate_limited" | "quota_exceeded",
    message: string,
    retryAfterSeconds: number,
    now: number,
    callerState: BucketState | undefined,
    globalState: BucketState | undefined,
    day: WindowCounter | null,
    month: WindowCounter | null,
  ): Extract<AdmitResult, { ok: false }> {
    const headers = this.headers(cfg, now, callerState, globalState, day, month, retryAfterSeconds);
    return { ok: false, code, status: 429, message, configVersion: cfg.version, headers, retryAfterSeconds };
  }

  private headers(
    cfg: MeterConfig,
    now: number,
    callerState: BucketState | undefined,
    globalState: BucketState | undefined,
    day: WindowCounter | null,
    month: WindowCounter | null,
    retryAfterSeconds?: number,
  ): Record<string, string> {
    const buckets: BucketStatus[] = [];
    if (callerState && cfg.rateLimit.perCaller) buckets.push({ name: "caller", rule: cfg.rateLimit.perCaller, state: callerState });
    if (globalState && cfg.rateLimit.global) buckets.push({ name: "global", rule: cfg.rateLimit.global, state: globalState });
    return meterHeaders({
      buckets,
      daily: day && cfg.usageLimit.dailyRequests !== undefined ? quotaStatus("daily", cfg.usageLimit.dailyRequests, day, now) : undefined,
      monthly: month && cfg.usageLimit.monthlyRequests !== undefined ? quotaStatus("monthly", cfg.usageLimit.monthlyRequests, month, now) : undefined,
      retryAfterSeconds,
    });
  }

  private loadCallerBucket(caller: string, rule: RateLimitRule, now: number): BucketState {
    const cached = this.callerBuckets.get(caller);
    if (cached) return cached;
    const row = this.sql.exec<{ tokens: number; updated_ms: number }>(SQL_BUCKET_GET, "c", caller).toArray()[0];
    const state = row ? { tokens: row.tokens, updatedMs: row.updated_ms } : fullBucket(rule, now);
    this.cacheCallerBucket(caller, state);
    return state;
  }

  private cacheCallerBucket(caller: string, state: BucketState): void {
    if (!this.callerBuckets.has(caller) && this.callerBuckets.size >= MAX_CACHED_CALLERS) {
      const oldest = this.callerBuckets.keys().next();
      if (!oldest.done) this.callerBuckets.delete(oldest.value);
    }
    this.callerBuckets.set(caller, state);
  }

  private loadGlobalBucket(rule: RateLimitRule, now: number): BucketState {
    if (this.globalBucket) return this.globalBucket;
    const row = this.sql.exec<{ tokens: number; updated_ms: number }>(SQL_BUCKET_GET, "g", "").toArray()[0];
    this.globalBucket = row ? { tokens: row.tokens, updatedMs: row.updated_ms } : fullBucket(rule, now);
    return this.globalBucket;
  }

  /** The counter of the UTC window holding `now`; SQLite is read only when the window changes. */
  private windowCounter(kind: QuotaKind, now: number): WindowCounter {
    const cached = kind === "d" ? this.dayCounter : this.monthCounter;
    if (cached && now >= cached.startMs && now < cached.endMs) return cached;
    const counter: WindowCounter =
      kind === "d"
        ? { period: utcDayKey(now), startMs: utcDayStartMs(now), endMs: nextUtcDayStartMs(now), count: 0 }
        : { period: utcMonthKey(now), startMs: utcMonthStartMs(now), endMs: nextUtcMonthStartMs(now), count: 0 };
    counter.count = this.sql.exec<{ count: number }>(SQL_QUOTA_GET, kind, counter.period).toArray()[0]?.count ?? 0;
    if (kind === "d") this.dayCounter = counter;
    else this.monthCounter = counter;
    return counter;
  }

  // -------------------------------------------------------------------------------------------
  // payments: admit (synchronous, like the free path)

  /** A paid admit (see the file header for the order of checks). Throws TypeError on a malformed request. */
  admitPaid(req: PaidAdmitRequest): AdmitResult | PaymentRefusal {
    const claim = parseClaim(req);
    const retry = req.retry === undefined ? null : retryJson(req.retry, "invalid PaidAdmitRequest: retry");
    const cfg = this.config;
    const version = cfg?.version ?? 0;

    // 1. A known payment id: replay or in flight, before anything else is looked at.
    const existing = this.paymentRow(claim.id);
    if (existing) return existingPaymentRefusal(existing, version);

    // 2. Idempotency-Key bound to another payment.
    const key = req.idempotencyKey;
    if (key !== undefined) {
      const bound = this.sql.exec<{ payment_id: string }>("SELECT payment_id FROM idempotency_keys WHERE payer = ? AND key = ?", claim.payer, key).toArray()[0];
      if (bound && bound.payment_id !== claim.id) {
        return {
          ok: false,
          code: "idempotency_key_conflict",
          status: 409,
          message: "This Idempotency-Key was already used with a different payment. Reuse the original payment, or use a new key.",
          configVersion: version,
          headers: {},
        };
      }
    }

    // 3. Tenant state, buckets and quotas, with the verified payer as the caller.
    if (cfg === null) return notConfigured();
    if (cfg.deleted) return notFound(cfg);
    const now = typeof req.now === "number" && Number.isFinite(req.now) ? req.now : Date.now();
    const check = this.checkLimits(cfg, claim.payer, now);
    if (!check.ok) return check.refusal;
    const plan = check.plan;

    // 4. Spend caps.
    const day = utcDayKey(now);
    const month = utcMonthKey(now);
    const spend = checkSpendCaps({
      caps: cfg.spendCapsAtomic,
      amount: claim.amountAtomic,
      daily: this.spendWindow("d", day, ""),
      monthly: this.spendWindow("m", month, ""),
      payerDaily: this.spendWindow("p", day, claim.payer),
      dayResetSeconds: secondsUntil(nextUtcDayStartMs(now), now),
      monthResetSeconds: secondsUntil(nextUtcMonthStartMs(now), now),
    });
    if (!spend.ok) {
      const headers = { ...this.headers(cfg, now, plan.callerState, plan.globalState, plan.day, plan.month), ...spendHeaders(spend.caps, 0n) };
      return { ok: false, code: "spend_cap_exceeded", status: 402, message: describeExceeded(spend, claim.amountAtomic), configVersion: cfg.version, headers };
    }

    // 5. Admitted: the payment row is the reservation; all of it in one transaction. With retry
    // material it is due for the orphan check, without it for the blind stale release.
    const dueAt = retry !== null ? inFlightCheckAtMs(now, claim.validBefore) : staleAtMs(claim.validBefore);
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        "INSERT INTO payments (id, status, amount, payer, pay_to, network, asset, valid_before, request_id, tenant, reserved_at, day, month, idem_key, due_at, retry) " +
          "VALUES (?, 'in_flight', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        claim.id,
        claim.amountAtomic,
        claim.payer,
        claim.payTo,
        claim.network,
        claim.asset,
        claim.validBefore,
        req.requestId,
        cfg.slug,
        now,
        day,
        month,
        key ?? null,
        dueAt,
        retry,
      );
      this.adjustSpend(day, month, claim.payer, claim.amountAtomic, "reserve");
      if (key !== undefined) {
        this.sql.exec(
          "INSERT INTO idempotency_keys (payer, key, payment_id, created_ms) VALUES (?, ?, ?, ?) " +
            "ON CONFLICT (payer, key) DO UPDATE SET payment_id = excluded.payment_id, created_ms = excluded.created_ms",
          claim.payer,
          key,
          claim.id,
          now,
        );
      }
      this.takeLimits(plan);
    });
    this.armAlarm(dueAt);
    // Spend rows and idempotency keys are pruned by housekeeping (a no-op when one is already due).
    this.ensureAlarm(key !== undefined ? now + IDEMPOTENCY_KEY_TTL_MS : utcDayStartMs(now) + (CALLER_DAYS_RETENTION + 1) * DAY_MS, now);

    const headers = { ...this.headers(cfg, now, plan.callerState, plan.globalState, plan.day, plan.month), ...spendHeaders(spend.caps, BigInt(claim.amountAtomic)) };
    return { ok: true, configVersion: cfg.version, headers };
  }

  private paymentRow(id: string): PaymentRow | undefined {
    return this.sql.exec<PaymentRow>(SQL_PAYMENT_GET, id).toArray()[0];
  }

  private spendWindow(kind: SpendKind, period: string, payer: string): SpendWindow {
    return this.sql.exec<{ settled: string; reserved: string }>(SQL_SPEND_GET, kind, period, payer).toArray()[0] ?? { settled: "0", reserved: "0" };
  }

  /**
   * Moves `amount` in the three counters of a payment's windows: reserve (reserved +=), release
   * (reserved −=), settle (reserved −=, settled +=) or settle_unreserved (settled += only: a late
   * commit whose reservation was already released). Bigint math on decimal strings, clamped at 0.
   */
  private adjustSpend(day: string, month: string, payer: string, amount: string, op: "reserve" | "release" | "settle" | "settle_unreserved"): void {
    const rows: [SpendKind, string, string][] = [["d", day, ""], ["m", month, ""], ["p", day, payer]];
    for (const [kind, period, who] of rows) {
      const w = this.spendWindow(kind, period, who);
      const reserved = op === "reserve" ? addAtomic(w.reserved, amount) : op === "settle_unreserved" ? w.reserved : subAtomicClamped(w.reserved, amount);
      const settled = op === "settle" || op === "settle_unreserved" ? addAtomic(w.settled, amount) : w.settled;
      this.sql.exec(SQL_SPEND_PUT, kind, period, who, settled, reserved);
    }
  }

  // -------------------------------------------------------------------------------------------
  // payments: release, markPending, commit

  /**
   * Frees an in-flight reservation (tenant failed, settle failed, anything after admit that
   * means the payer is not charged): the record goes, so the same signed payment may be presented
   * again. Unknown or settled ids are a no-op (never un-settles). A settlement_pending record is
   * left alone unless `includePending` (operator use: the chain shows the transfer never happened).
   * With `requestId` only the record that request admitted is released: after an orphan check
   * released it, the same payment may have been admitted again by another request.
   */
  release(paymentId: string, options?: { includePending?: boolean; requestId?: string }): void {
    if (typeof paymentId !== "string") return;
    const row = this.paymentRow(paymentId);
    if (!row || row.status === "settled") return;
    if (row.status === "settlement_pending" && options?.includePending !== true) return;
    if (typeof options?.requestId === "string" && options.requestId !== row.request_id) return;
    this.releaseRow(row);
  }

  private releaseRow(row: PaymentRow): void {
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM payments WHERE id = ?", row.id);
      this.adjustSpend(row.day, row.month, row.payer, row.amount, "release");
      if (row.idem_key !== null) this.sql.exec("DELETE FROM idempotency_keys WHERE payer = ? AND key = ? AND payment_id = ?", row.payer, row.idem_key, row.id);
    });
  }

  /**
   * The settle outcome is unknown (timeout, network): keep the reservation, store what the alarm
   * needs to ask the facilitator again, and schedule it. No-op for unknown or settled ids.
   * Throws TypeError (writing nothing) if the retry material is not a JSON object with both parts.
   */
  markPending(paymentId: string, retry: SettlementRetry, admitted?: AdmittedPayment): void {
    if (typeof paymentId !== "string") return;
    const row = this.paymentRow(paymentId);
    if (row?.status === "settled") return;
    if (!row) {
      // Released as orphaned while this dispatcher's settle was still out (a slow tenant plus a
      // settle timeout): the transfer may happen, so reserve it again and reconcile it.
      const late = admitted ? this.rowFromAdmitted(paymentId, null, admitted) : null;
      if (!late) return;
      const json = retryJson(retry, "markPending: retry");
      const tx = typeof retry.transaction === "string" && retry.transaction.length > 0 ? retry.transaction : null;
      const dueAt = nextReconcileAtMs(Date.now(), 0, late.valid_before);
      this.ctx.storage.transactionSync(() => {
        this.insertRow({ ...late, status: "settlement_pending", retry: json, tx, due_at: dueAt });
        this.adjustSpend(late.day, late.month, late.payer, late.amount, "reserve");
      });
      this.armAlarm(dueAt);
      console.warn(`late markPending: payment ${late.id} was released as orphaned while its settle was out; reserved again as settlement_pending`);
      return;
    }
    const json = retryJson(retry, "markPending: retry");
    const tx = typeof retry.transaction === "string" && retry.transaction.length > 0 ? retry.transaction : row.tx;
    const dueAt = nextReconcileAtMs(Date.now(), 0, row.valid_before);
    this.sql.exec(
      "UPDATE payments SET status = 'settlement_pending', retry = ?, tx = ?, due_at = ?, unresolved = 0 WHERE id = ? AND status <> 'settled'",
      json,
      tx,
      dueAt,
      row.id,
    );
    this.armAlarm(dueAt);
  }

  /**
   * The settlement happened: atomically mark it settled, keep the response for replays (body
   * capped at MAX_STORED_BODY_BYTES), turn the reservation into settled spend and queue the
   * ledger row; the alarm delivers it to D1. Committing a settled id again changes nothing.
   * Works on in-flight and settlement_pending records.
   *
   * An unknown id with `admitted` (what the dispatcher admitted) is a late commit: the orphan
   * check released the reservation while this dispatcher was still settling, and the transfer
   * did happen. The record is recreated as settled and the ledger row written all the same
   * (`committed_late`); the amount counts as settled spend in its admit's windows, even if a cap
   * was filled meanwhile (the money moved). Without `admitted` an unknown id stays a no-op.
   */
  commit(paymentId: string, settlement: SettlementInfo, response: StoredResponse, ledger: LedgerEntryInput, admitted?: AdmittedPayment): CommitResult {
    if (typeof paymentId !== "string") return "unknown_payment";
    const row = this.paymentRow(paymentId);
    const tx = settlement && typeof settlement.transaction === "string" && settlement.transaction.length > 0 ? settlement.transaction : (row?.tx ?? null);
    const settledAt = ledger && typeof ledger.settledAt === "number" && Number.isFinite(ledger.settledAt) ? Math.floor(ledger.settledAt) : Date.now();
    const ledgerRequestId = ledger && typeof ledger.requestId === "string" && ledger.requestId.length > 0 ? ledger.requestId : null;
    if (!row) return this.commitLate(paymentId, tx, capStoredResponse(response), settledAt, ledgerRequestId, admitted);
    if (row.status === "settled") return "already_settled";
    this.settleRow(row, tx, capStoredResponse(response), settledAt, ledgerRequestId ?? row.request_id);
    return "committed";
  }

  /** `commit` of a released (or never seen) payment: recreate it as settled from what was admitted. */
  private commitLate(paymentId: string, tx: string | null, stored: StoredResponse, settledAt: number, ledgerRequestId: string | null, admitted: AdmittedPayment | undefined): CommitResult {
    const row = admitted ? this.rowFromAdmitted(paymentId, ledgerRequestId, admitted) : null;
    if (!row) return "unknown_payment";
    // Its reservation was released already: the amount becomes settled spend without being un-reserved again.
    this.settleRow(row, tx, stored, settledAt, row.request_id, () => this.insertRow(row));
    console.warn(`late commit: payment ${row.id} was released as orphaned before its dispatcher committed; recorded as settled`);
    return "committed_late";
  }

  /** The in-flight row a dispatcher's AdmittedPayment describes (not stored), or null if it is malformed or another payment's. */
  private rowFromAdmitted(paymentId: string, requestId: string | null, admitted: AdmittedPayment): PaymentRow | null {
    const cfg = this.config;
    if (!admitted || typeof admitted !== "object" || cfg === null) return null;
    const rid = requestId ?? (boundedString(admitted.requestId, 256) ? admitted.requestId : "late");
    let claim: PaymentClaim;
    try {
      claim = parseClaim({ caller: "", now: 0, payment: admitted.payment, requestId: rid });
    } catch {
      return null;
    }
    if (claim.id !== paymentId) return null;
    const reservedAt = typeof admitted.reservedAt === "number" && Number.isFinite(admitted.reservedAt) ? admitted.reservedAt : Date.now();
    return {
      id: claim.id,
      status: "in_flight",
      amount: claim.amountAtomic,
      payer: claim.payer,
      pay_to: claim.payTo,
      network: claim.network,
      asset: claim.asset,
      valid_before: claim.validBefore,
      request_id: rid,
      tenant: cfg.slug,
      reserved_at: reservedAt,
      day: utcDayKey(reservedAt),
      month: utcMonthKey(reservedAt),
      idem_key: null,
      due_at: null,
      attempts: 0,
      retry: null,
      unresolved: 0,
      settled_at: null,
      tx: null,
      resp_status: null,
      resp_headers: null,
      resp_body: null,
      resp_omitted: null,
    };
  }

  /** Inserts a row built by rowFromAdmitted (status, retry, tx and due_at as given). */
  private insertRow(row: PaymentRow): void {
    this.sql.exec(
      "INSERT INTO payments (id, status, amount, payer, pay_to, network, asset, valid_before, request_id, tenant, reserved_at, day, month, due_at, retry, tx) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
      row.due_at,
      row.retry,
      row.tx,
    );
  }

  /** `recreate`: a late commit, which first inserts the row (same transaction) and does not un-reserve. */
  private settleRow(row: PaymentRow, tx: string | null, stored: StoredResponse, settledAt: number, requestId: string, recreate?: () => void): void {
    const realNow = Date.now();
    const pruneAt = settledPruneAtMs(realNow, row.valid_before);
    const entry: LedgerOutboxEntry = {
      paymentId: row.id,
      tenant: row.tenant,
      requestId,
      payer: row.payer,
      payTo: row.pay_to,
      amountAtomic: row.amount,
      asset: row.asset,
      network: row.network,
      transaction: tx,
      settledAt,
    };
    this.ctx.storage.transactionSync(() => {
      recreate?.();
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
        row.id,
      );
      this.adjustSpend(row.day, row.month, row.payer, row.amount, recreate ? "settle_unreserved" : "settle");
      this.sql.exec("INSERT INTO outbox (kind, body, created_ms) VALUES ('ledger', ?, ?)", JSON.stringify(entry), realNow);
      this.emitUsageEvent({
        requestId,
        ts: row.reserved_at,
        caller: row.payer,
        status: stored.status,
        // Admit to settlement: the paid call as the payer waited for it (tenant + settle).
        latencyMs: Math.max(0, settledAt - row.reserved_at),
        lifecycle: "payment_settled",
        billedAtomic: row.amount,
      });
    });
    this.armAlarm(Math.max(realNow + FLUSH_DELAY_MS, this.flushRetryAt ?? 0));
    this.ensureAlarm(pruneAt, realNow);
  }

  /** One payment record, or null when unknown (never admitted, released, or pruned). */
  paymentStatus(paymentId: string): PaymentStatusInfo | null {
    if (typeof paymentId !== "string") return null;
    const row = this.paymentRow(paymentId);
    if (!row) return null;
    return {
      id: row.id,
      status: row.status,
      amountAtomic: row.amount,
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
      nextAttemptAt: row.status === "settlement_pending" || (row.status === "in_flight" && row.retry !== null) ? row.due_at : null,
      hasRetryMaterial: row.retry !== null,
      unresolved: row.unresolved === 1,
      hasStoredResponse: row.status === "settled",
    };
  }

  /** Spend in the windows holding `now` (tenant day and month; one payer's day if given). */
  spend(now: number, payer?: string): SpendInfo {
    const day = utcDayKey(now);
    const month = utcMonthKey(now);
    const info: SpendInfo = { day, month, daily: this.spendWindow("d", day, ""), monthly: this.spendWindow("m", month, "") };
    if (typeof payer === "string") info.payerDaily = this.spendWindow("p", day, payer);
    return info;
  }

  // -------------------------------------------------------------------------------------------
  // usage events: outbox → Leaderboard

  /** Appends the call's usage event to the outbox (the caller's transaction makes it atomic). */
  private emitUsageEvent(outcome: CallOutcome): void {
    const cfg = this.config;
    if (!cfg?.events) return;
    const event = usageEventFor(outcome, { apiId: cfg.slug, ...cfg.events, priceAtomic: cfg.priceAtomic });
    this.sql.exec("INSERT INTO outbox (kind, body, created_ms) VALUES ('usage', ?, ?)", JSON.stringify(event), Date.now());
    this.usageWaiting = true;
    this.armAlarm(Math.max(Date.now() + USAGE_FLUSH_DELAY_MS, this.usageRetryAt ?? 0));
  }

  /**
   * Sends waiting usage events to this API's Leaderboard shard in batches, deleting them once
   * ingested. At least once: a failure keeps them (backoff 1 s doubling to 60 s); the Leaderboard
   * dedupes by (apiId, requestId). Independent of the D1 ledger flush, so neither blocks the other.
   */
  async deliverUsageEvents(): Promise<{ delivered: number; remaining: number; error?: string }> {
    const slug = this.config?.slug;
    let delivered = 0;
    if (!slug) return { delivered, remaining: this.usageOutboxSize() };
    for (let batch = 0; batch < MAX_USAGE_BATCHES; batch++) {
      const rows = this.sql.exec<{ seq: number; body: string }>("SELECT seq, body FROM outbox WHERE kind = 'usage' ORDER BY seq LIMIT ?", USAGE_BATCH).toArray();
      if (rows.length === 0) break;
      try {
        await leaderboardFor(this.env, slug).ingest(rows.map((r) => JSON.parse(r.body) as unknown));
      } catch (err) {
        this.usageFailures += 1;
        this.usageRetryAt = Date.now() + flushBackoffMs(this.usageFailures);
        this.armAlarm(this.usageRetryAt);
        return { delivered, remaining: this.usageOutboxSize(), error: err instanceof Error ? err.message : String(err) };
      }
      this.sql.exec("DELETE FROM outbox WHERE kind = 'usage' AND seq <= ?", rows[rows.length - 1]!.seq);
      delivered += rows.length;
    }
    this.usageFailures = 0;
    this.usageRetryAt = null;
    const remaining = this.usageOutboxSize();
    this.usageWaiting = remaining > 0;
    if (remaining > 0) this.armAlarm(Date.now());
    return { delivered, remaining };
  }

  private usageOutboxSize(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'usage'").one().n;
  }

  private usageDueAt(now: number): number | null {
    if (!this.usageWaiting && this.usageOutboxSize() === 0) return null;
    return this.usageRetryAt ?? now + USAGE_FLUSH_DELAY_MS;
  }

  // -------------------------------------------------------------------------------------------
  // payments: outbox → D1 ledger

  /**
   * Sends waiting ledger rows to D1 in batches and deletes them once D1 accepted the batch. Never
   * throws: a failed batch keeps its rows, schedules a retry with backoff (1 s doubling to 60 s)
   * and is reported in `error`. Calls are serialised, so each one is a fresh attempt.
   */
  flushOutbox(): Promise<FlushResult> {
    const run = this.flushChain.then(() => this.flushOnce());
    this.flushChain = run.catch(() => undefined);
    return run;
  }

  private async flushOnce(): Promise<FlushResult> {
    let flushed = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_FLUSH; batch++) {
      const rows = this.sql.exec<{ seq: number; body: string }>("SELECT seq, body FROM outbox WHERE kind = 'ledger' ORDER BY seq LIMIT ?", OUTBOX_BATCH).toArray();
      if (rows.length === 0) break;
      const entries = `[${rows.map((r) => r.body).join(",")}]`;
      try {
        await this.env.DB.batch([this.env.DB.prepare(D1_LEDGER_INSERT).bind(entries, Date.now()), this.env.DB.prepare(D1_AUDIT_INSERT).bind(entries)]);
      } catch (err) {
        this.flushFailures += 1;
        this.flushRetryAt = Date.now() + flushBackoffMs(this.flushFailures);
        this.armAlarm(this.flushRetryAt);
        return { flushed, remaining: this.outboxSize(), error: err instanceof Error ? err.message : String(err) };
      }
      // Only what was sent: rows committed while D1 was busy have higher seq and wait their turn.
      this.sql.exec("DELETE FROM outbox WHERE kind = 'ledger' AND seq <= ?", rows[rows.length - 1]!.seq);
      flushed += rows.length;
    }
    this.flushFailures = 0;
    this.flushRetryAt = null;
    const remaining = this.outboxSize();
    if (remaining > 0) this.armAlarm(Date.now());
    return { flushed, remaining };
  }

  private outboxSize(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'ledger'").one().n;
  }

  // -------------------------------------------------------------------------------------------
  // payments: stale reservations and reconciliation

  /**
   * Releases in-flight reservations WITHOUT retry material once they can never settle any more
   * (validBefore + 60 s passed). This is blind (an isolate that died after /settle leaves such a
   * row too), which is why the dispatcher always sends retry material: those rows are reconciled
   * by `reconcilePending` instead and never released here.
   */
  releaseStale(now: number): number {
    const rows = this.sql.exec<PaymentRow>("SELECT * FROM payments WHERE status = 'in_flight' AND retry IS NULL AND due_at <= ? ORDER BY due_at LIMIT 1000", now).toArray();
    for (const row of rows) this.releaseRow(row);
    return rows.length;
  }

  /**
   * Asks the facilitator about the payments that are due: settlement_pending ones, and in-flight
   * ones with retry material whose orphan check is due (payments.ts decides what to do with the
   * answers). `client` defaults to FACILITATOR_URL; without one nothing is done.
   */
  async reconcilePending(now: number = Date.now(), client?: FacilitatorClient): Promise<{ attempted: number; actions: Record<string, number> }> {
    const facilitator = client ?? (this.env.FACILITATOR_URL ? httpFacilitator(this.env.FACILITATOR_URL) : null);
    const actions: Record<string, number> = {};
    if (!facilitator) return { attempted: 0, actions };
    const due = this.sql
      .exec<PaymentRow>(`SELECT * FROM payments WHERE ${RECONCILABLE} AND due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?`, now, RECONCILE_BATCH)
      .toArray()
      .filter((row) => !this.reconciling.has(row.id));
    await Promise.all(
      due.map(async (row) => {
        this.reconciling.add(row.id);
        try {
          const action = await this.reconcileOne(row, now, facilitator);
          actions[action.action] = (actions[action.action] ?? 0) + 1;
        } finally {
          this.reconciling.delete(row.id);
        }
      }),
    );
    return { attempted: due.length, actions };
  }

  private async reconcileOne(row: PaymentRow, now: number, facilitator: FacilitatorClient): Promise<ReconcileAction> {
    let material: SettlementRetry | null = null;
    try {
      material = JSON.parse(row.retry ?? "null") as SettlementRetry | null;
    } catch {
      // written by markPending as JSON; unreadable material leaves nothing to ask about
    }
    let action: ReconcileAction;
    if (!material || material.paymentPayload == null || material.paymentRequirements == null) {
      action = { action: "hold", reason: "no readable retry material" };
    } else {
      const body = facilitatorBody(material.paymentPayload, material.paymentRequirements);
      const input = { phase: row.status === "in_flight" ? ("in_flight" as const) : ("settlement_pending" as const), now, validBefore: row.valid_before, knownTransaction: row.tx };
      // A client that throws is treated like one that could not be reached.
      const verify = await facilitator.verify(body).catch((): VerifyOutcome => ({ ok: false }));
      action = decideReconcile({ ...input, verify });
      if (action.action === "settle") {
        const settle = await facilitator.settle(body).catch((): SettleOutcome => ({ ok: false }));
        action = decideReconcile({ ...input, verify, settle });
      }
    }
    this.applyReconcile(row, action);
    return action;
  }

  /**
   * Applies a decision, synchronously and only if the record is still the one that was asked about
   * (same status and admitting request): while the facilitator answered, the dispatcher may have
   * committed, released, or marked it pending, and another request may have admitted it again.
   */
  private applyReconcile(asked: PaymentRow, action: ReconcileAction): void {
    const id = asked.id;
    const row = this.paymentRow(id);
    if (!row || row.status !== asked.status || row.request_id !== asked.request_id || row.status === "settled") return;
    switch (action.action) {
      case "commit": {
        const tx = action.transaction ?? row.tx;
        this.settleRow(row, tx, reconciledResponse(tx), Date.now(), row.request_id);
        return;
      }
      case "release":
        this.releaseRow(row);
        return;
      case "hold":
        // An orphaned in-flight payment whose outcome cannot be known any more is exactly a
        // settlement whose outcome is unknown: held like one (operator resolves it).
        this.sql.exec("UPDATE payments SET status = 'settlement_pending', unresolved = 1, due_at = NULL, attempts = attempts + 1 WHERE id = ?", id);
        return;
      case "retry":
      case "settle": {
        const dueAt = nextReconcileAtMs(Date.now(), row.attempts + 1, row.valid_before);
        const tx = action.action === "retry" && action.transaction ? action.transaction : row.tx;
        this.sql.exec("UPDATE payments SET attempts = attempts + 1, due_at = ?, tx = ? WHERE id = ?", dueAt, tx, id);
        this.armAlarm(dueAt);
        return;
      }
    }
  }

  /** When payments next need the alarm (outbox, stale reservations, reconciliation), or null. */
  private paymentsDueAt(now: number): number | null {
    let next = Infinity;
    if (this.outboxSize() > 0) next = Math.min(next, this.flushRetryAt ?? now);
    const stale = this.sql.exec<{ t: number | null }>("SELECT MIN(due_at) AS t FROM payments WHERE status = 'in_flight' AND retry IS NULL").one().t;
    if (stale !== null) next = Math.min(next, stale);
    const pending = this.sql.exec<{ t: number | null }>(`SELECT MIN(due_at) AS t FROM payments WHERE ${RECONCILABLE} AND due_at IS NOT NULL`).one().t;
    if (pending !== null) next = Math.min(next, this.env.FACILITATOR_URL ? pending : Math.max(pending, now + NO_FACILITATOR_RETRY_MS));
    return Number.isFinite(next) ? next : null;
  }

  // -------------------------------------------------------------------------------------------
  // record / stats

  /**
   * Records a batch the dispatcher buffered (one RPC and one storage commit for many calls).
   * Invalid entries are skipped and counted rather than failing the whole batch: one bad
   * record must not lose the others.
   */
  recordBatch(usages: UsageRecord[]): { recorded: number; rejected: number } {
    if (!Array.isArray(usages)) throw new TypeError("recordBatch takes an array of UsageRecord");
    let recorded = 0;
    this.ctx.storage.transactionSync(() => {
      for (const usage of usages) {
        try {
          this.record(usage);
          recorded += 1;
        } catch (err) {
          if (!(err instanceof TypeError)) throw err;
        }
      }
    });
    return { recorded, rejected: usages.length - recorded };
  }

  record(usage: UsageRecord): void {
    if (!usage || typeof usage !== "object") throw new TypeError("invalid UsageRecord");
    const { ts, status, latencyMs, outcome } = usage;
    if (typeof ts !== "number" || !Number.isFinite(ts)) throw new TypeError("invalid UsageRecord: ts must be a finite number");
    if (typeof status !== "number" || !Number.isFinite(status)) throw new TypeError("invalid UsageRecord: status must be a number");
    if (!isOutcome(outcome)) throw new TypeError(`invalid UsageRecord: unknown outcome ${JSON.stringify(outcome)}`);
    if (typeof usage.caller !== "string") throw new TypeError("invalid UsageRecord: caller must be a string");

    // payment_settled's event is written by commit (same transaction as the settlement).
    if (outcome !== "payment_settled") this.emitUsageEvent({ ...usage, lifecycle: outcome });
    // Challenges and unusable payments are not calls: they feed events (402→paid conversion), not stats.
    if (!OUTCOME_TRAITS[outcome].call) return;
    const refused = OUTCOME_TRAITS[outcome].refusedStat ? 1 : 0;
    const served = outcome === "served" || outcome === "payment_settled" ? 1 : 0;
    const errors = status >= 500 || outcome === "tenant_error" ? 1 : 0;
    const hour = utcHour(ts);
    // Refused calls never reached the tenant: their latency would only drag the percentiles down.
    if (refused || typeof latencyMs !== "number" || !Number.isFinite(latencyMs)) {
      this.sql.exec(SQL_HOURLY_NO_LATENCY, hour, served, errors, refused);
    } else {
      this.sql.exec(SQL_HOURLY_WITH_LATENCY[latencyBucket(latencyMs)]!, hour, served, errors, refused);
    }

    const day = utcDayKey(ts);
    const label = typeof usage.callerLabel === "string" ? usage.callerLabel.slice(0, MAX_LABEL_LENGTH) : null;
    const newToday = this.sql.exec("INSERT OR IGNORE INTO caller_days (day, caller, label) VALUES (?, ?, ?)", day, usage.caller, label).rowsWritten > 0;
    if (newToday) {
      const newEver = this.sql.exec("INSERT OR IGNORE INTO callers (caller, first_seen_ms) VALUES (?, ?)", usage.caller, ts).rowsWritten > 0;
      if (newEver) {
        this.sql.exec("INSERT INTO meta (key, value) VALUES ('callers_total', '1') ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1");
      }
      this.ensureAlarm(utcDayStartMs(ts) + (CALLER_DAYS_RETENTION + 1) * DAY_MS, ts);
    }
  }

  stats(now: number): MeterStats {
    const dayStart = utcDayStartMs(now);
    const monthStart = utcMonthStartMs(now);
    const monthEnd = nextUtcMonthStartMs(now);
    const today = this.sumHours(utcHour(dayStart), utcHour(dayStart + DAY_MS));
    const month = this.sumHours(utcHour(monthStart), utcHour(monthEnd));
    const total = this.sumHours(null, null);
    today.uniqueCallers = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM caller_days WHERE day = ?", utcDayKey(now)).one().n;
    month.uniqueCallers = this.sql
      .exec<{ n: number }>("SELECT COUNT(DISTINCT caller) AS n FROM caller_days WHERE day >= ? AND day < ?", utcDayKey(monthStart), utcDayKey(monthEnd))
      .one().n;
    const totalRow = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'callers_total'").toArray()[0];
    total.uniqueCallers = totalRow ? Number(totalRow.value) : 0;
    return { configVersion: this.config?.version ?? 0, windows: { today, month, total } };
  }

  private sumHours(fromHour: number | null, toHour: number | null): WindowStats {
    const cursor =
      fromHour === null || toHour === null
        ? this.sql.exec<Record<string, number>>(SQL_HOURLY_SUM)
        : this.sql.exec<Record<string, number>>(`${SQL_HOURLY_SUM} WHERE hour >= ? AND hour < ?`, fromHour, toHour);
    const row = cursor.toArray()[0];
    if (!row) return emptyWindow();
    const hist = HIST_COLUMNS.map((c) => row[c] ?? 0);
    return {
      calls: row.calls ?? 0,
      served: row.served ?? 0,
      errors: row.errors ?? 0,
      refused: row.refused ?? 0,
      uniqueCallers: 0,
      p50LatencyMs: estimatePercentile(hist, 0.5),
      p95LatencyMs: estimatePercentile(hist, 0.95),
    };
  }

  // -------------------------------------------------------------------------------------------
  // housekeeping

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    await this.deliverUsageEvents();
    await this.flushOutbox();
    this.releaseStale(Date.now());
    await this.reconcilePending(Date.now());
    const now = Date.now();
    if (this.housekeepAt !== null && this.housekeepAt <= now) this.housekeepAt = this.housekeep(now);
    const payments = this.paymentsDueAt(now);
    const next = Math.min(this.housekeepAt ?? Infinity, payments ?? Infinity, this.usageDueAt(now) ?? Infinity);
    if (Number.isFinite(next)) this.armAlarm(next);
  }

  /**
   * Deletes what carries no information at `now`: bucket rows that would be full (a missing row
   * means full), caller-days and daily counters older than the retention, old monthly counters.
   * Returns when it next has something to do, or null. Public so tests and operators can run it
   * with an explicit clock.
   */
  housekeep(now: number): number | null {
    const cfg = this.config;
    let next = Infinity;
    for (const [kind, rule] of [["c", cfg?.rateLimit.perCaller], ["g", cfg?.rateLimit.global]] as const) {
      if (!rule) {
        this.sql.exec("DELETE FROM buckets WHERE kind = ?", kind);
        continue;
      }
      const msPerToken = (rule.windowSeconds * 1000) / rule.requests;
      const capacity = bucketCapacity(rule);
      this.sql.exec("DELETE FROM buckets WHERE kind = ? AND updated_ms + (? - tokens) * ? <= ?", kind, capacity, msPerToken, now);
      const soonest = this.sql.exec<{ t: number | null }>("SELECT MIN(updated_ms + (? - tokens) * ?) AS t FROM buckets WHERE kind = ?", capacity, msPerToken, kind).one().t;
      if (soonest !== null) next = Math.min(next, soonest);
    }
    this.callerBuckets.clear();
    this.globalBucket = undefined;

    const cutoffDay = utcDayKey(now - CALLER_DAYS_RETENTION * DAY_MS);
    this.sql.exec("DELETE FROM caller_days WHERE day < ?", cutoffDay);
    this.sql.exec("DELETE FROM quota_counts WHERE kind = 'd' AND period < ?", cutoffDay);
    const cutoff = new Date(now);
    this.sql.exec("DELETE FROM quota_counts WHERE kind = 'm' AND period < ?", utcMonthKey(Date.UTC(cutoff.getUTCFullYear(), cutoff.getUTCMonth() - MONTH_RETENTION, 1)));
    const oldestDay = this.sql.exec<{ d: string | null }>("SELECT MIN(day) AS d FROM caller_days").one().d;
    if (oldestDay !== null) next = Math.min(next, Date.parse(oldestDay) + (CALLER_DAYS_RETENTION + 1) * DAY_MS);
    const oldestCounter = this.sql.exec<{ d: string | null }>("SELECT MIN(period) AS d FROM quota_counts WHERE kind = 'd'").one().d;
    if (oldestCounter !== null) next = Math.min(next, Date.parse(oldestCounter) + (CALLER_DAYS_RETENTION + 1) * DAY_MS);

    // Payments: stale reservations, settled records past their replay window, old idempotency
    // keys, and spend counters kept as long as the quota counters.
    this.releaseStale(now);
    this.sql.exec("DELETE FROM payments WHERE status = 'settled' AND due_at <= ?", now);
    const prunable = this.sql.exec<{ t: number | null }>("SELECT MIN(due_at) AS t FROM payments WHERE status = 'settled'").one().t;
    if (prunable !== null) next = Math.min(next, prunable);
    this.sql.exec("DELETE FROM idempotency_keys WHERE created_ms <= ?", now - IDEMPOTENCY_KEY_TTL_MS);
    const oldestKey = this.sql.exec<{ t: number | null }>("SELECT MIN(created_ms) AS t FROM idempotency_keys").one().t;
    if (oldestKey !== null) next = Math.min(next, oldestKey + IDEMPOTENCY_KEY_TTL_MS);
    this.sql.exec("DELETE FROM spend WHERE kind IN ('d', 'p') AND period < ?", cutoffDay);
    this.sql.exec("DELETE FROM spend WHERE kind = 'm' AND period < ?", utcMonthKey(Date.UTC(cutoff.getUTCFullYear(), cutoff.getUTCMonth() - MONTH_RETENTION, 1)));
    const oldestSpend = this.sql.exec<{ d: string | null }>("SELECT MIN(period) AS d FROM spend WHERE kind IN ('d', 'p')").one().d;
    if (oldestSpend !== null) next = Math.min(next, Date.parse(oldestSpend) + (CALLER_DAYS_RETENTION + 1) * DAY_MS);

    return Number.isFinite(next) ? Math.max(next, now + PRUNE_MIN_DELAY_MS) : null;
  }

  /** Called only while no alarm is pending, so at most once per housekeeping cycle. */
  private scheduleHousekeeping(now: number, callerState: BucketState | undefined, globalState: BucketState | undefined): void {
    const cfg = this.config;
    let at = utcDayStartMs(now) + (CALLER_DAYS_RETENTION + 1) * DAY_MS; // daily counters
    if (callerState && cfg?.rateLimit.perCaller) at = Math.min(at, fullAtMs(callerState, cfg.rateLimit.perCaller));
    if (globalState && cfg?.rateLimit.global) at = Math.min(at, fullAtMs(globalState, cfg.rateLimit.global));
    this.ensureAlarm(at, now);
  }

  /** Schedules housekeeping (never sooner than the minimum delay); moves the alarm only earlier. */
  private ensureAlarm(at: number, now: number): void {
    const when = Math.max(at, now + PRUNE_MIN_DELAY_MS);
    if (this.housekeepAt === null || when < this.housekeepAt) this.housekeepAt = when;
    this.armAlarm(when);
  }

  /** Moves the alarm only earlier; setAlarm is not awaited so callers stay synchronous. */
  private armAlarm(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    this.ctx.storage.setAlarm(at).catch(() => {
      this.alarmAt = null; // try again on the next write
    });
  }
}

function quotaStatus(name: "daily" | "monthly", limit: number, counter: WindowCounter, now: number): QuotaStatus {
  return {
    name,
    limit,
    used: counter.count,
    windowSeconds: Math.round((counter.endMs - counter.startMs) / 1000),
    resetSeconds: secondsUntil(counter.endMs, now),
  };
}


function notConfigured(): Extract<AdmitResult, { ok: false }> {
  return { ok: false, code: "tenant_not_configured", status: 503, message: "This API is not configured yet; try again shortly.", configVersion: 0, headers: {} };
}

function notFound(cfg: MeterConfig): Extract<AdmitResult, { ok: false }> {
  return { ok: false, code: "tenant_not_found", status: 404, message: `No API named "${cfg.slug}".`, configVersion: cfg.version, headers: {} };
}

function boundedString(value: unknown, max: number): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= max;
}

/** Facilitator material as stored JSON; throws TypeError (nothing written) if it is missing a part, not JSON or too large. */
function retryJson(retry: SettlementRetry, what: string): string {
  if (!retry || typeof retry !== "object" || retry.paymentPayload == null || retry.paymentRequirements == null) {
    throw new TypeError(`${what} must carry paymentPayload and paymentRequirements`);
  }
  let json: string;
  try {
    json = JSON.stringify({ paymentPayload: retry.paymentPayload, paymentRequirements: retry.paymentRequirements } satisfies SettlementRetry);
  } catch {
    throw new TypeError(`${what} material is not JSON-serialisable`);
  }
  if (json.length > MAX_RETRY_BYTES) throw new TypeError(`${what} material is larger than ${MAX_RETRY_BYTES} bytes`);
  return json;
}

/** Validates the parts of a paid admit the meter stores; throws TypeError (nothing written). */
function parseClaim(req: PaidAdmitRequest): PaymentClaim {
  const p = req.payment as Partial<PaymentClaim> | null;
  const bad = (what: string): never => {
    throw new TypeError(`invalid PaidAdmitRequest: ${what}`);
  };
  if (!p || typeof p !== "object") return bad("payment must be an object");
  if (!boundedString(p.id, MAX_ID_LENGTH)) return bad("payment.id must be a non-empty string");
  if (typeof p.amountAtomic !== "string" || !ATOMIC_PATTERN.test(p.amountAtomic)) return bad("payment.amountAtomic must be a non-negative integer string");
  for (const field of ["payer", "payTo", "network", "asset"] as const) {
    if (!boundedString(p[field], 256)) bad(`payment.${field} must be a non-empty string`);
  }
  if (typeof p.validBefore !== "number" || !Number.isFinite(p.validBefore) || p.validBefore < 0) return bad("payment.validBefore must be seconds since epoch");
  if (!boundedString(req.requestId, 256)) return bad("requestId must be a non-empty string");
  if (req.idempotencyKey !== undefined && !boundedString(req.idempotencyKey, MAX_IDEMPOTENCY_KEY_LENGTH)) {
    return bad(`idempotencyKey must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
  return {
    id: p.id,
    amountAtomic: p.amountAtomic,
    payer: p.payer!,
    payTo: p.payTo!,
    network: p.network!,
    asset: p.asset!,
    validBefore: Math.floor(p.validBefore),
  };
}

/** Step 1 of a paid admit: the payment id is already known. */
function existingPaymentRefusal(row: PaymentRow, configVersion: number): PaymentRefusal {
  if (row.status === "settled") {
    let headers: Record<string, string> = {};
    try {
      headers = JSON.parse(row.resp_headers ?? "{}") as Record<string, string>;
    } catch {
      // stored by us as JSON; unreadable headers are dropped rather than failing the replay
    }
    const stored: StoredResponse = { status: row.resp_status ?? 200, headers, bodyBase64: row.resp_body, bodyOmitted: row.resp_omitted === 1 };
    return {
      ok: false,
      code: "payment_replayed",
      status: 200,
      message: "This payment was already settled; this is the stored response.",
      configVersion,
      headers: {},
      stored,
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
