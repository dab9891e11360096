// Admission of a call against the tenant's free-call limits (docs/ARCHITECTURE.md §4, §9.1): the
// token buckets (per caller and global) and the daily/monthly quota counters, with their SQL
// (tables buckets, quota_counts). The math is in limits.ts; this module is storage and order.
//
// Why admits are exact: everything here is synchronous (only `ctx.storage.sql`, no `await`), and
// a Durable Object runs one event at a time, so N admits in flight never see the same token or
// counter twice. Why it is fast: config, bucket states and the current quota counters live in
// memory; SQLite is the durable copy, written through on every admitted call (a refusal writes
// nothing). A tenant without limits writes nothing at all.
//
// Buckets are checked before quotas and both before anything is taken, so a refusal consumes
// nothing; a call refused by a bucket and a quota at once is `rate_limited` (the X-Usage-*
// headers still show the exhausted quota). A quota switched on mid-window starts from the
// admitted calls already recorded in the hourly stats, so a quota added mid-day counts the day.
import type { RateLimitRule } from "../../src/config/tenant-config.ts";
import {
  nextUtcDayStartMs,
  nextUtcMonthStartMs,
  secondsUntil,
  utcDayKey,
  utcDayStartMs,
  utcMonthKey,
  utcMonthStartMs,
} from "../shared/time.ts";
import type { ConfigStore } from "./config.ts";
import { dayCutoff, dayRowExpiresAt, type Housekeeping, monthCutoff } from "./housekeeping.ts";
import {
  bucketCapacity,
  type BucketState,
  type BucketStatus,
  fullAtMs,
  fullBucket,
  hasToken,
  meterHeaders,
  refill,
  secondsUntilToken,
  take,
  takeMany,
} from "./limits.ts";
import type { AdmitResult, MeterConfig } from "./types.ts";

/** In-memory caller buckets kept warm; the oldest are dropped (SQLite still has them). */
const MAX_CACHED_CALLERS = 10_000;

const SQL_BUCKET_GET = "SELECT tokens, updated_ms FROM buckets WHERE kind = ? AND caller = ?";
const SQL_BUCKET_PUT =
  "INSERT INTO buckets (kind, caller, tokens, updated_ms) VALUES (?, ?, ?, ?) " +
  "ON CONFLICT (kind, caller) DO UPDATE SET tokens = excluded.tokens, updated_ms = excluded.updated_ms";
const SQL_QUOTA_GET = "SELECT count FROM quota_counts WHERE kind = ? AND period = ?";
const SQL_QUOTA_PUT =
  "INSERT INTO quota_counts (kind, period, count) VALUES (?, ?, ?) " +
  "ON CONFLICT (kind, period) DO UPDATE SET count = excluded.count";

import {
  ALL_PARTS,
  type BucketKind,
  describeRule,
  type LimitCheck,
  type LimitParts,
  type LimitPlan,
  notConfigured,
  notFound,
  type QuotaKind,
  quotaStatus,
  type RecordedAdmits,
  type Refusal,
  sameRule,
  type WindowCounter,
} from "./admission-rules.ts";

export {
  type BucketKind,
  type LimitCheck,
  type LimitParts,
  type LimitPlan,
  notConfigured,
  notFound,
  type QuotaKind,
  type RecordedAdmits,
  type Refusal,
  requestNow,
  tenantRefusal,
  type WindowCounter,
} from "./admission-rules.ts";

export class Admission {
  private callerBuckets = new Map<string, BucketState>();
  /** undefined = not loaded yet from SQLite. */
  private globalBucket: BucketState | undefined;
  private dayCounter: WindowCounter | null = null;
  private monthCounter: WindowCounter | null = null;

  constructor(
    private readonly sql: SqlStorage,
    private readonly config: ConfigStore,
    private readonly housekeeping: Housekeeping,
    private readonly recordedAdmits: RecordedAdmits,
  ) {}

  /** A free call: tenant state, buckets, quotas; takes a token and counts it when admitted. */
  admitFree(caller: string, now: number): AdmitResult {
    const cfg = this.config.current;
    if (cfg === null) return notConfigured();
    if (cfg.deleted) return notFound(cfg);
    const check = this.check(cfg, caller, now);
    if (!check.ok) return check.refusal;
    const plan = check.plan;
    this.takeScheduling(cfg, plan, now);
    return { ok: true, configVersion: cfg.version, headers: this.headers(cfg, plan, now) };
  }

  /** take(), then make sure housekeeping will prune what it wrote (admits and lease grants). */
  takeScheduling(cfg: MeterConfig, plan: LimitPlan, now: number, n = 1): void {
    this.take(plan, n);
    const stateful = plan.callerState || plan.globalState || plan.day;
    if (!this.housekeeping.scheduled && stateful) this.scheduleHousekeeping(cfg, plan, now);
  }

  /** Buckets, then quotas: reads only, so a refusal consumes nothing. */
  check(cfg: MeterConfig, caller: string, now: number, parts: LimitParts = ALL_PARTS): LimitCheck {
    const { perCaller, global } = cfg.rateLimit;
    const plan: LimitPlan = { caller, callerState: undefined, globalState: undefined, day: null, month: null };
    let bucketRetry = 0;
    const emptyBuckets: string[] = [];
    if (perCaller && parts.caller) {
      plan.callerState = refill(this.loadCallerBucket(caller, perCaller, now), perCaller, now);
      if (!hasToken(plan.callerState)) {
        bucketRetry = Math.max(bucketRetry, secondsUntilToken(plan.callerState, perCaller));
        emptyBuckets.push(`per-caller limit (${describeRule(perCaller)})`);
      }
    }
    if (global && parts.tenant) {
      plan.globalState = refill(this.loadGlobalBucket(global, now), global, now);
      if (!hasToken(plan.globalState)) {
        bucketRetry = Math.max(bucketRetry, secondsUntilToken(plan.globalState, global));
        emptyBuckets.push(`global limit (${describeRule(global)})`);
      }
    }
    // Quotas (count < limit), read from the cached counter of the current UTC window.
    const { dailyRequests, monthlyRequests } = parts.tenant ? cfg.usageLimit : {};
    plan.day = dailyRequests !== undefined ? this.windowCounter("d", now) : null;
    plan.month = monthlyRequests !== undefined ? this.windowCounter("m", now) : null;
    if (emptyBuckets.length > 0) {
      const message = `Rate limit exceeded: ${emptyBuckets.join(" and ")}. Retry in ${bucketRetry} s.`;
      return { ok: false, refusal: this.refusal(cfg, plan, "rate_limited", message, bucketRetry, now) };
    }
    return this.checkQuotas(cfg, plan, now);
  }

  private checkQuotas(cfg: MeterConfig, plan: LimitPlan, now: number): LimitCheck {
    const { dailyRequests: daily, monthlyRequests: monthly } = cfg.usageLimit;
    let quotaRetry = 0;
    const exhausted: string[] = [];
    if (plan.day && daily !== undefined && plan.day.count >= daily) {
      quotaRetry = Math.max(quotaRetry, secondsUntil(plan.day.endMs, now));
      exhausted.push(`daily quota of ${daily} requests`);
    }
    if (plan.month && monthly !== undefined && plan.month.count >= monthly) {
      quotaRetry = Math.max(quotaRetry, secondsUntil(plan.month.endMs, now));
      exhausted.push(`monthly quota of ${monthly} requests`);
    }
    if (exhausted.length === 0) return { ok: true, plan };
    const message = `This API's ${exhausted.join(" and ")} is used up. Resets in ${quotaRetry} s.`;
    return { ok: false, refusal: this.refusal(cfg, plan, "quota_exceeded", message, quotaRetry, now) };
  }

  /**
   * Admitted: take and count `n` (1 per call; a lease takes what it grants), SQLite first so
   * memory never runs ahead of the durable copy.
   */
  take(plan: LimitPlan, n = 1): void {
    const { caller, day, month } = plan;
    if (plan.callerState) {
      plan.callerState = n === 1 ? take(plan.callerState) : takeMany(plan.callerState, n);
      this.setBucket("c", caller, plan.callerState);
    }
    if (plan.globalState) {
      plan.globalState = n === 1 ? take(plan.globalState) : takeMany(plan.globalState, n);
      this.setBucket("g", "", plan.globalState);
    }
    if (day) this.setQuota("d", day, day.count + n);
    if (month) this.setQuota("m", month, month.count + n);
  }

  /** Writes a bucket state through (SQLite, then memory); lease.ts credits returned tokens with it. */
  setBucket(kind: BucketKind, caller: string, state: BucketState): void {
    this.sql.exec(SQL_BUCKET_PUT, kind, caller, state.tokens, state.updatedMs);
    if (kind === "c") this.cacheCallerBucket(caller, state);
    else this.globalBucket = state;
  }

  /** Writes a quota counter through (SQLite, then memory). */
  setQuota(kind: QuotaKind, counter: WindowCounter, count: number): void {
    this.sql.exec(SQL_QUOTA_PUT, kind, counter.period, count);
    counter.count = count;
  }

  /**
   * Undoes take(plan) for a provisional paid admit whose payment was not verified (provisional.ts):
   * a token back into each bucket it took from (never above capacity), a count off each quota
   * window it counted in, if that window is still the current one.
   */
  giveBack(plan: LimitPlan, now: number): void {
    const { perCaller, global } = this.config.current?.rateLimit ?? {};
    if (plan.callerState && perCaller) {
      const state = refill(this.loadCallerBucket(plan.caller, perCaller, now), perCaller, now);
      const back = { tokens: Math.min(bucketCapacity(perCaller), state.tokens + 1), updatedMs: state.updatedMs };
      this.sql.exec(SQL_BUCKET_PUT, "c", plan.caller, back.tokens, back.updatedMs);
      this.cacheCallerBucket(plan.caller, back);
    }
    if (plan.globalState && global) {
      const state = refill(this.loadGlobalBucket(global, now), global, now);
      this.globalBucket = { tokens: Math.min(bucketCapacity(global), state.tokens + 1), updatedMs: state.updatedMs };
      this.sql.exec(SQL_BUCKET_PUT, "g", "", this.globalBucket.tokens, this.globalBucket.updatedMs);
    }
    for (const [kind, taken] of [
      ["d", plan.day],
      ["m", plan.month],
    ] as const) {
      const counter = taken ? this.windowCounter(kind, now) : null;
      if (!counter || counter.period !== taken?.period || counter.count <= 0) continue;
      counter.count -= 1;
      this.sql.exec(SQL_QUOTA_PUT, kind, counter.period, counter.count);
    }
  }

  /** RateLimit-*, X-RateLimit-* and X-Usage-* headers for the plan's states at `now`. */
  headers(cfg: MeterConfig, plan: LimitPlan, now: number, retryAfterSeconds?: number): Record<string, string> {
    const buckets: BucketStatus[] = [];
    const { perCaller, global } = cfg.rateLimit;
    const { dailyRequests: daily, monthlyRequests: monthly } = cfg.usageLimit;
    if (plan.callerState && perCaller) buckets.push({ name: "caller", rule: perCaller, state: plan.callerState });
    if (plan.globalState && global) buckets.push({ name: "global", rule: global, state: plan.globalState });
    return meterHeaders({
      buckets,
      daily: plan.day && daily !== undefined ? quotaStatus("daily", daily, plan.day, now) : undefined,
      monthly: plan.month && monthly !== undefined ? quotaStatus("monthly", monthly, plan.month, now) : undefined,
      retryAfterSeconds,
    });
  }

  private refusal(
    cfg: MeterConfig,
    plan: LimitPlan,
    code: "rate_limited" | "quota_exceeded",
    message: string,
    retryAfterSeconds: number,
    now: number,
  ): Refusal {
    const headers = this.headers(cfg, plan, now, retryAfterSeconds);
    return { ok: false, code, status: 429, message, configVersion: cfg.version, headers, retryAfterSeconds };
  }

  /** Called only while no housekeeping is scheduled, so at most once per housekeeping cycle. */
  private scheduleHousekeeping(cfg: MeterConfig, plan: LimitPlan, now: number): void {
    const { perCaller, global } = cfg.rateLimit;
    let at = dayRowExpiresAt(now); // daily counters
    if (plan.callerState && perCaller) at = Math.min(at, fullAtMs(plan.callerState, perCaller));
    if (plan.globalState && global) at = Math.min(at, fullAtMs(plan.globalState, global));
    this.housekeeping.ensure(at, now);
  }

  // -------------------------------------------------------------------------------------------
  // configuration changes

  /** Applies a new config's limits to the stored state (the config itself is saved by ConfigStore). */
  applyConfig(prev: MeterConfig | null, next: MeterConfig, now: number): void {
    this.applyRuleChange("c", prev?.rateLimit.perCaller, next.rateLimit.perCaller);
    this.applyRuleChange("g", prev?.rateLimit.global, next.rateLimit.global);
    const was = prev?.usageLimit;
    if (next.usageLimit.dailyRequests !== undefined && was?.dailyRequests === undefined) this.seedQuota("d", now);
    if (next.usageLimit.monthlyRequests !== undefined && was?.monthlyRequests === undefined) this.seedQuota("m", now);
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
      const capacity = bucketCapacity(next);
      this.sql.exec("UPDATE buckets SET tokens = ? WHERE kind = ? AND tokens > ?", capacity, kind, capacity);
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
    const recorded = this.recordedAdmits(start, end);
    const stored = this.sql.exec<{ count: number }>(SQL_QUOTA_GET, kind, period).toArray()[0]?.count ?? 0;
    this.sql.exec(SQL_QUOTA_PUT, kind, period, Math.max(recorded, stored));
    if (kind === "d") this.dayCounter = null;
    else this.monthCounter = null;
  }

  // -------------------------------------------------------------------------------------------
  // state: memory over SQLite

  loadCallerBucket(caller: string, rule: RateLimitRule, now: number): BucketState {
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

  loadGlobalBucket(rule: RateLimitRule, now: number): BucketState {
    if (this.globalBucket) return this.globalBucket;
    const row = this.sql.exec<{ tokens: number; updated_ms: number }>(SQL_BUCKET_GET, "g", "").toArray()[0];
    this.globalBucket = row ? { tokens: row.tokens, updatedMs: row.updated_ms } : fullBucket(rule, now);
    return this.globalBucket;
  }

  /** The counter of the UTC window holding `now`; SQLite is read only when the window changes. */
  windowCounter(kind: QuotaKind, now: number): WindowCounter {
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
  // housekeeping

  /** Deletes bucket rows that would be full by now and quota counters past their retention. */
  prune(now: number): number | null {
    const cfg = this.config.current;
    let next = Infinity;
    for (const [kind, rule] of [
      ["c", cfg?.rateLimit.perCaller],
      ["g", cfg?.rateLimit.global],
    ] as const) {
      if (!rule) {
        this.sql.exec("DELETE FROM buckets WHERE kind = ?", kind);
        continue;
      }
      const msPerToken = (rule.windowSeconds * 1000) / rule.requests;
      const capacity = bucketCapacity(rule);
      // A row is full at updated_ms + (capacity - tokens) * msPerToken.
      const fullAt = "updated_ms + (? - tokens) * ?";
      this.sql.exec(`DELETE FROM buckets WHERE kind = ? AND ${fullAt} <= ?`, kind, capacity, msPerToken, now);
      const soonestSql = `SELECT MIN(${fullAt}) AS t FROM buckets WHERE kind = ?`;
      const soonest = this.sql.exec<{ t: number | null }>(soonestSql, capacity, msPerToken, kind).one().t;
      if (soonest !== null) next = Math.min(next, soonest);
    }
    this.callerBuckets.clear();
    this.globalBucket = undefined;

    this.sql.exec("DELETE FROM quota_counts WHERE kind = 'd' AND period < ?", dayCutoff(now));
    this.sql.exec("DELETE FROM quota_counts WHERE kind = 'm' AND period < ?", monthCutoff(now));
    const oldestCounter = this.sql
      .exec<{ d: string | null }>("SELECT MIN(period) AS d FROM quota_counts WHERE kind = 'd'")
      .one().d;
    if (oldestCounter !== null) next = Math.min(next, dayRowExpiresAt(oldestCounter));
    return Number.isFinite(next) ? next : null;
  }
}
