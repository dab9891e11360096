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
import { DurableObject } from "cloudflare:workers";
import * as v from "valibot";
import { RateLimitSchema, SpendLimitSchema, UsageLimitSchema, type RateLimitRule } from "../src/config/tenant-config.ts";
import {
  bucketCapacity,
  type BucketState,
  type BucketStatus,
  DAY_MS,
  estimatePercentile,
  fullAtMs,
  fullBucket,
  hasToken,
  LATENCY_BUCKETS,
  latencyBucket,
  meterHeaders,
  nextUtcDayStartMs,
  nextUtcMonthStartMs,
  type QuotaStatus,
  refill,
  secondsUntil,
  secondsUntilToken,
  take,
  utcDayKey,
  utcDayStartMs,
  utcHour,
  utcMonthKey,
  utcMonthStartMs,
} from "./limits.ts";
import type { AdmitRequest, AdmitResult, ConfigureResult, MeterConfig, MeterStats, UsageRecord, WindowStats } from "./meter-types.ts";

/** Per-day caller rows (and daily counters) are kept this long: a month of uniques plus slack. */
const CALLER_DAYS_RETENTION = 40;
/** Monthly counters older than this many months are dropped. */
const MONTH_RETENTION = 13;
/** Housekeeping is never sooner than this after the last run: pruning is about space, not time. */
const PRUNE_MIN_DELAY_MS = 15 * 60_000;
/** In-memory caller buckets kept warm; the oldest are dropped (SQLite still has them). */
const MAX_CACHED_CALLERS = 10_000;
const MAX_LABEL_LENGTH = 128;

const MeterConfigSchema = v.object({
  slug: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  version: v.pipe(v.number(), v.integer(), v.minValue(1)),
  deleted: v.boolean(),
  rateLimit: RateLimitSchema,
  usageLimit: UsageLimitSchema,
  spendLimit: SpendLimitSchema,
  priceAtomic: v.pipe(v.string(), v.regex(/^\d{1,78}$/, "priceAtomic must be a non-negative integer string")),
});

const OUTCOMES: ReadonlySet<UsageRecord["outcome"]> = new Set(["served", "tenant_error", "rate_limited", "quota_exceeded"]);

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

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'config'").toArray()[0];
    this.config = row ? (JSON.parse(row.value) as MeterConfig) : null;
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
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

  admit(req: AdmitRequest): AdmitResult {
    const cfg = this.config;
    if (cfg === null) {
      return { ok: false, code: "tenant_not_configured", status: 503, message: "This API is not configured yet; try again shortly.", configVersion: 0, headers: {} };
    }
    if (cfg.deleted) {
      return { ok: false, code: "tenant_not_found", status: 404, message: `No API named "${cfg.slug}".`, configVersion: cfg.version, headers: {} };
    }
    const now = typeof req.now === "number" && Number.isFinite(req.now) ? req.now : Date.now();
    const caller = String(req.caller);
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
      return this.refusal(cfg, "rate_limited", `Rate limit exceeded: ${emptyBuckets.join(" and ")}. Retry in ${bucketRetry} s.`, bucketRetry, now, callerState, globalState, day, month);
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
      return this.refusal(cfg, "quota_exceeded", `This API's ${exhausted.join(" and ")} is used up. Resets in ${quotaRetry} s.`, quotaRetry, now, callerState, globalState, day, month);
    }

    // 3. Admitted: take and count, SQLite first so memory never runs ahead of the durable copy.
    if (callerState) {
      callerState = take(callerState);
      this.sql.exec(SQL_BUCKET_PUT, "c", caller, callerState.tokens, callerState.updatedMs);
      this.cacheCallerBucket(caller, callerState);
    }
    if (globalState && global) {
      globalState = take(globalState);
      this.sql.exec(SQL_BUCKET_PUT, "g", "", globalState.tokens, globalState.updatedMs);
      this.globalBucket = globalState;
    }
    if (day) {
      this.sql.exec(SQL_QUOTA_PUT, "d", day.period, day.count + 1);
      day.count += 1;
    }
    if (month) {
      this.sql.exec(SQL_QUOTA_PUT, "m", month.period, month.count + 1);
      month.count += 1;
    }
    if (this.alarmAt === null && (callerState || globalState || day)) this.scheduleHousekeeping(now, callerState, globalState);

    return { ok: true, configVersion: cfg.version, headers: this.headers(cfg, now, callerState, globalState, day, month) };
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
  ): AdmitResult {
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
    if (!OUTCOMES.has(outcome)) throw new TypeError(`invalid UsageRecord: unknown outcome ${JSON.stringify(outcome)}`);
    if (typeof usage.caller !== "string") throw new TypeError("invalid UsageRecord: caller must be a string");

    const refused = outcome === "rate_limited" || outcome === "quota_exceeded" ? 1 : 0;
    const served = outcome === "served" ? 1 : 0;
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
    const next = this.housekeep(Date.now());
    if (next !== null) this.ensureAlarm(next, Date.now());
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

  /** Moves the alarm only earlier; setAlarm is not awaited so callers stay synchronous. */
  private ensureAlarm(at: number, now: number): void {
    const when = Math.max(at, now + PRUNE_MIN_DELAY_MS);
    if (this.alarmAt !== null && this.alarmAt <= when) return;
    this.alarmAt = when;
    this.ctx.storage.setAlarm(when).catch(() => {
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

