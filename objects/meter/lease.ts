// Lease grants of the TenantMeter (docs/ARCHITECTURE.md §14): a dispatcher isolate asks for
// tokens of the tenant part (global bucket and daily/monthly quotas) or of one caller's bucket
// and admits free calls from them without an RPC. The meter stays the source of truth:
//   - tokens are debited when granted, in the same synchronous SQLite writes as an admit
//     (admission.ts), so nothing a holder does — crash, race, any number of isolates — can
//     admit more than the limits allow; a refusal takes nothing, as for admits;
//   - a grant is sized by leaseSize (lease-size.ts), lives LEASE_TTL_MS at most (never past the
//     end of a quota window) and carries the config version it was granted under;
//   - unused tokens come back with a later request (`returns`), credited at most once per lease
//     id and never more than granted; a return under another config version, after a restart
//     (the records live in memory only) or after RETURN_GRACE_MS is ignored: those tokens count
//     as used, which is what makes a lost or crashed holder safe.
import { type Admission, type LimitPlan, requestNow, tenantRefusal } from "./admission.ts";
import type { ConfigStore } from "./config.ts";
import { LEASE_TTL_MS, leaseSize } from "./lease-size.ts";
import { bucketCapacity, refill } from "./limits.ts";
import type { LeaseRequest, LeaseResult, LeaseReturn, LeaseSnapshot, MeterConfig } from "./types.ts";

/** A return later than this after the lease expired is ignored (its tokens stay used). */
const RETURN_GRACE_MS = 60_000;
/** Outstanding lease records kept; beyond it the oldest are forgotten (their tokens stay used). */
const MAX_RECORDS = 50_000;
/** A holder counts as active (it shares what remains) this long after it last asked. */
const HOLDER_WINDOW_MS = 2 * LEASE_TTL_MS;

interface LeaseRecord {
  part: "tenant" | "caller";
  caller: string;
  tokens: number;
  version: number;
  expiresAt: number;
  day: string | null;
  month: string | null;
}

const EMPTY: LeaseSnapshot = { buckets: [], quotas: [] };

export class LeaseBook {
  private readonly records = new Map<string, LeaseRecord>();
  private readonly holders = new Map<string, number>();

  constructor(
    private readonly admission: Admission,
    private readonly config: ConfigStore,
  ) {}

  /** Credits `returns`, then grants up to `want` tokens of one part (or refuses, taking nothing). */
  lease(req: LeaseRequest): LeaseResult {
    const now = requestNow(req.now);
    this.forget(now);
    for (const r of Array.isArray(req.returns) ? req.returns : []) this.credit(r, now);
    const cfg = this.config.current;
    const refusal = tenantRefusal(cfg);
    if (refusal || cfg === null) return refusal!;
    const part = req.part === "caller" ? "caller" : "tenant";
    const caller = part === "caller" ? String(req.caller) : "";
    const limited = part === "caller" ? Boolean(cfg.rateLimit.perCaller) : tenantLimited(cfg);
    const want = Number(req.want);
    const base = { ok: true as const, id: "", configVersion: cfg.version, expiresAt: now + LEASE_TTL_MS };
    if (!limited) return { ...base, tokens: null, snapshot: EMPTY };
    if (!(want >= 1)) return { ...base, tokens: 0, expiresAt: now, snapshot: EMPTY };
    const parts = { caller: part === "caller", tenant: part === "tenant" };
    const check = this.admission.check(cfg, caller, now, parts);
    if (!check.ok) return check.refusal;
    const plan = check.plan;
    // The check passed, so at least one token is there (as for an admit) even if float dust says less.
    const tokens = Math.max(1, leaseSize(remainingOf(cfg, plan), want, this.activeHolders(String(req.holder), now)));
    this.admission.takeScheduling(cfg, plan, now, tokens);
    const expiresAt = Math.min(base.expiresAt, plan.day?.endMs ?? Infinity, plan.month?.endMs ?? Infinity);
    const id = crypto.randomUUID();
    const day = plan.day?.period ?? null;
    const month = plan.month?.period ?? null;
    this.records.set(id, { part, caller, tokens, version: cfg.version, expiresAt, day, month });
    return { ...base, id, tokens, expiresAt, snapshot: snapshotOf(cfg, plan) };
  }

  /** Puts a lease's unused tokens back, once; anything doubtful is left counted as used. */
  private credit(r: LeaseReturn, now: number): void {
    const id = String(r?.id);
    const rec = this.records.get(id);
    if (!rec) return;
    this.records.delete(id);
    const cfg = this.config.current;
    const unused = Math.min(rec.tokens, Math.floor(Number(r.unused)));
    if (!cfg || cfg.deleted || cfg.version !== rec.version || !(unused > 0)) return;
    const rule = rec.part === "caller" ? cfg.rateLimit.perCaller : cfg.rateLimit.global;
    if (rule) {
      const kind = rec.part === "caller" ? "c" : "g";
      const loaded = kind === "c" ? this.admission.loadCallerBucket(rec.caller, rule, now) : undefined;
      const state = refill(loaded ?? this.admission.loadGlobalBucket(rule, now), rule, now);
      const tokens = Math.min(bucketCapacity(rule), state.tokens + unused);
      this.admission.setBucket(kind, rec.caller, { tokens, updatedMs: state.updatedMs });
    }
    if (rec.part !== "tenant") return;
    for (const [kind, period] of [
      ["d", rec.day],
      ["m", rec.month],
    ] as const) {
      if (period === null) continue;
      const counter = this.admission.windowCounter(kind, now);
      // A lease never outlives its window, so a return for a past window is a late one: ignored.
      if (counter.period === period) this.admission.setQuota(kind, counter, Math.max(0, counter.count - unused));
    }
  }

  /** Drops records past their return grace (insertion order is close to expiry order). */
  private forget(now: number): void {
    for (const [id, rec] of this.records) {
      if (rec.expiresAt + RETURN_GRACE_MS >= now && this.records.size <= MAX_RECORDS) break;
      this.records.delete(id);
    }
  }

  /** Holders that asked within HOLDER_WINDOW_MS, this one included. */
  private activeHolders(holder: string, now: number): number {
    this.holders.delete(holder);
    this.holders.set(holder, now);
    for (const [h, seen] of this.holders) {
      if (seen >= now - HOLDER_WINDOW_MS) break;
      this.holders.delete(h);
    }
    return this.holders.size;
  }
}

function tenantLimited(cfg: MeterConfig): boolean {
  const { dailyRequests, monthlyRequests } = cfg.usageLimit;
  return Boolean(cfg.rateLimit.global) || dailyRequests !== undefined || monthlyRequests !== undefined;
}

/** Whole calls the checked part could still admit: the tightest of its buckets and quotas. */
function remainingOf(cfg: MeterConfig, plan: LimitPlan): number {
  let left = Infinity;
  if (plan.callerState) left = Math.min(left, plan.callerState.tokens);
  if (plan.globalState) left = Math.min(left, plan.globalState.tokens);
  const { dailyRequests, monthlyRequests } = cfg.usageLimit;
  if (plan.day && dailyRequests !== undefined) left = Math.min(left, dailyRequests - plan.day.count);
  if (plan.month && monthlyRequests !== undefined) left = Math.min(left, monthlyRequests - plan.month.count);
  return left;
}

function snapshotOf(cfg: MeterConfig, plan: LimitPlan): LeaseSnapshot {
  const snapshot: LeaseSnapshot = { buckets: [], quotas: [] };
  const { perCaller, global } = cfg.rateLimit;
  const { dailyRequests, monthlyRequests } = cfg.usageLimit;
  if (plan.callerState && perCaller) snapshot.buckets.push({ name: "caller", rule: perCaller, ...plan.callerState });
  if (plan.globalState && global) snapshot.buckets.push({ name: "global", rule: global, ...plan.globalState });
  const { day, month } = plan;
  for (const [name, limit, w] of [
    ["daily", dailyRequests, day],
    ["monthly", monthlyRequests, month],
  ] as const) {
    if (!w || limit === undefined) continue;
    snapshot.quotas.push({ name, limit, used: w.count, startMs: w.startMs, endMs: w.endMs });
  }
  return snapshot;
}
