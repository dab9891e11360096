// A dispatcher isolate's leases of free-call tokens (docs/ARCHITECTURE.md §14): free calls admit
// from a valid lease without an RPC to the TenantMeter, which granted (and already debited) the
// tokens, so this cache can only ever admit fewer calls than the meter would, never more.
//   - Two parts per tenant: the tenant part (global bucket and quotas) and, when the tenant limits
//     callers, one part per verified caller. Both are taken before a call is admitted; when one
//     is refused the other's token goes back into its lease (a refusal consumes nothing).
//   - One in-flight grant per part: callers finding the part empty wait on it (no thundering
//     herd), and a grant asks for what the waiters and the recent demand need. A lease running
//     low, or in the last quarter of its TTL, is refilled in the background before it runs out.
//     A part made again after a quiet spell asks for its last demand at once (lease-demand.ts).
//   - A lease is used only before its expiry and only while its config version is not older than
//     the tenant config this isolate serves; a dropped or expired lease's unused tokens go back
//     to the meter with the next grant of that tenant, or at its expiry (`flush`).
// No bindings here: `LeaseCall.ask` is the RPC, `defer` keeps background work alive, and `now`
// comes with each call, so tests run several caches (isolates) against one meter with any clock.
import { type BucketStatus, meterHeaders, type QuotaStatus, refill } from "../../objects/meter/limits.ts";
import { MAX_LEASE_TOKENS } from "../../objects/meter/lease-size.ts";
import type { AdmitResult, LeaseRequest, LeaseResult, LeaseSnapshot } from "../../objects/meter/types.ts";
import { secondsUntil } from "../../objects/shared/time.ts";
import { DemandMemory } from "./lease-demand.ts";

type Refusal = Extract<AdmitResult, { ok: false }>;
type Kind = LeaseRequest["part"];
export type LeaseAsk = (req: LeaseRequest) => Promise<LeaseResult>;

export interface LeaseCall {
  /** The verified caller (IP hash): never a caller-supplied header. */
  caller: string;
  now: number;
  /** Version of the tenant config this isolate serves; leases granted under an older one are dropped. */
  version: number;
  /** Whether the tenant has a per-caller limit (only then is a caller lease needed). */
  perCaller: boolean;
  ask: LeaseAsk;
  /** Keeps background work (a refill, the return at expiry) alive: ctx.waitUntil in a Worker. */
  defer: (work: Promise<unknown>) => void;
}

interface Lease {
  id: string;
  version: number;
  expiresAt: number;
  granted: number;
  left: number;
  /** The part has no limit: the lease only says the tenant takes calls under `version`. */
  unlimited: boolean;
  snapshot: LeaseSnapshot;
}

interface Part {
  leases: Lease[];
  inflight: Promise<Refusal | null> | null;
  waiting: number;
  /** Tokens taken since the last grant was asked for: the demand the next one is sized by. */
  used: number;
  /** The demand (want) of this part before its leases all expired, asked for by its first grant. */
  carried: number;
  /** Where the part's demand is remembered (tenant and part). */
  memoryKey: string;
}

interface TenantLeases {
  parts: Map<string, Part>;
  /** Lease id → unused tokens to give back to the meter. */
  returns: Map<string, number>;
}

const TENANT_PART = "";
/** Parts (callers) kept per tenant; beyond it expired parts are swept, else the call is not cached. */
const MAX_PARTS = 10_000;
/** Tenants kept per isolate; the oldest entry is dropped first (its leases' tokens count as used). */
const MAX_TENANTS = 2_000;
/** A lease this close to its expiry is refilled in the background (a quarter of the 1 s TTL). */
const REFILL_BEFORE_EXPIRY_MS = 250;

export class LeaseCache {
  private readonly tenants = new Map<string, TenantLeases>();
  private readonly demand = new DemandMemory();
  private holderId: string | null = null;

  /** This holder's random id, made on first use (workerd forbids random values at global scope). */
  get holder(): string {
    return (this.holderId ??= crypto.randomUUID());
  }

  /** Admits one free call from the tenant's leases, asking the meter only when they are empty. */
  async admit(slug: string, call: LeaseCall): Promise<AdmitResult> {
    const t = this.tenant(slug);
    const tenantPart = this.part(slug, t, TENANT_PART, call.now);
    const callerPart = call.perCaller ? this.part(slug, t, `c:${call.caller}`, call.now) : null;
    const [tenant, caller] = await Promise.all([
      this.acquire(slug, t, tenantPart, "tenant", call),
      callerPart ? this.acquire(slug, t, callerPart, "caller", call) : null,
    ]);
    const refusal = firstRefusal(tenant, caller);
    if (refusal) {
      if (tenant && !isRefusal(tenant)) giveBack(t, tenantPart, tenant, call.now);
      if (caller && callerPart && !isRefusal(caller)) giveBack(t, callerPart, caller, call.now);
      return refusal;
    }
    const leases = { tenant: tenant as Lease, caller: caller as Lease | null };
    return { ok: true, configVersion: leases.tenant.version, headers: headersOf(leases, call.now) };
  }

  /** Gives back the unused tokens of expired leases (one RPC, only if there are any). */
  async flush(slug: string, ask: LeaseAsk, now: number): Promise<void> {
    const t = this.tenants.get(slug);
    if (!t) return;
    sweep(t, now);
    if (t.returns.size > 0) {
      const returns = takeReturns(t);
      try {
        await ask({ holder: this.holder, part: "tenant", caller: "", want: 0, now, returns });
      } catch (err) {
        for (const r of returns) t.returns.set(r.id, (t.returns.get(r.id) ?? 0) + r.unused);
        throw err;
      }
    }
    if (t.parts.size === 0 && t.returns.size === 0) this.tenants.delete(slug);
  }

  /** Unused leased tokens this cache holds for a tenant (tests and the bench measure with it). */
  outstanding(slug: string, now: number): number {
    const t = this.tenants.get(slug);
    if (!t) return 0;
    let n = 0;
    for (const p of t.parts.values()) for (const l of p.leases) if (!l.unlimited && l.expiresAt > now) n += l.left;
    return n;
  }

  private async acquire(
    slug: string,
    t: TenantLeases,
    part: Part,
    kind: Kind,
    call: LeaseCall,
  ): Promise<Lease | Refusal> {
    // After a grant, its lease is taken even if its version is older than ours: the meter just
    // answered (and was told to catch up), so another round would only ask the same again.
    for (let round = 0; ; round++) {
      const lease = takeToken(t, part, call, round > 0);
      if (lease) {
        this.prefetchIfLow(slug, t, part, kind, lease, call);
        return lease;
      }
      if (!part.inflight) {
        part.inflight = this.grant(slug, t, part, kind, call);
        // Other requests await this promise; workerd cancels their continuations if the request
        // that made it ends first (e.g. its client went away), so keep that request alive for it.
        call.defer(part.inflight);
      }
      part.waiting += 1;
      let refused: Refusal | null;
      try {
        refused = await part.inflight;
      } finally {
        part.waiting -= 1;
      }
      if (refused) return refused;
    }
  }

  private prefetchIfLow(slug: string, t: TenantLeases, part: Part, kind: Kind, l: Lease, call: LeaseCall): void {
    if (l.unlimited || part.inflight || l.granted < 4) return;
    // Low, or about to expire with tokens left: a lease sized for a second of demand often lasts
    // longer than its TTL, and without this every caller then waited one meter round trip.
    const low = l.left <= l.granted / 4;
    if (!low && l.expiresAt - call.now > REFILL_BEFORE_EXPIRY_MS) return;
    // Only the newest lease asks: one already refilled must not ask again while it drains.
    if (part.leases[part.leases.length - 1] !== l) return;
    part.inflight = this.grant(slug, t, part, kind, call);
    call.defer(part.inflight);
  }

  private async grant(slug: string, t: TenantLeases, part: Part, kind: Kind, call: LeaseCall): Promise<Refusal | null> {
    // The demand the calls showed; a part made again after a quiet spell also asks its old one.
    const shown = Math.min(MAX_LEASE_TOKENS, Math.max(part.waiting + 1, 2 * part.used));
    const want = Math.max(shown, part.carried);
    this.demand.remember(part.memoryKey, shown, call.now);
    part.used = 0;
    part.carried = 0;
    const returns = takeReturns(t);
    const req: LeaseRequest = { holder: this.holder, part: kind, caller: call.caller, want, now: call.now };
    if (returns.length > 0) req.returns = returns;
    try {
      const res = await call.ask(req);
      if (!res.ok) return res;
      const unlimited = res.tokens === null;
      const tokens = res.tokens ?? 0;
      const lease = { id: res.id, version: res.configVersion, expiresAt: res.expiresAt, granted: tokens, left: tokens };
      part.leases.push({ ...lease, unlimited, snapshot: res.snapshot });
      // What this lease may leave unused goes back at its expiry, not only with a later grant.
      const returnAtExpiry = () => this.flush(slug, call.ask, res.expiresAt);
      if (tokens > 1) call.defer(sleep(res.expiresAt - call.now + 1).then(returnAtExpiry));
      return null;
    } catch (err) {
      // The returns may not have arrived; sending them again is safe (credited once per lease id).
      for (const r of returns) t.returns.set(r.id, (t.returns.get(r.id) ?? 0) + r.unused);
      throw err;
    } finally {
      part.inflight = null;
    }
  }

  private tenant(slug: string): TenantLeases {
    let t = this.tenants.get(slug);
    if (t) return t;
    if (this.tenants.size >= MAX_TENANTS) {
      const oldest = this.tenants.keys().next();
      if (!oldest.done) this.tenants.delete(oldest.value);
    }
    t = { parts: new Map(), returns: new Map() };
    this.tenants.set(slug, t);
    return t;
  }

  /** The part's state; a new one is not kept when the tenant already holds MAX_PARTS live parts. */
  private part(slug: string, t: TenantLeases, key: string, now: number): Part {
    const found = t.parts.get(key);
    if (found) return found;
    if (t.parts.size >= MAX_PARTS) sweep(t, now);
    const memoryKey = `${slug}\n${key}`;
    const carried = this.demand.recall(memoryKey, now);
    const part: Part = { leases: [], inflight: null, waiting: 0, used: 0, carried, memoryKey };
    if (t.parts.size < MAX_PARTS) t.parts.set(key, part);
    return part;
  }
}

function isRefusal(x: Lease | Refusal | null): x is Refusal {
  return x !== null && "ok" in x;
}

/** Tenant state (404/503) first, then the caller's bucket, then the tenant's limits: as the meter orders them. */
function firstRefusal(tenant: Lease | Refusal, caller: Lease | Refusal | null): Refusal | null {
  const refusals = [tenant, caller].filter(isRefusal);
  return refusals.find((r) => r.status !== 429) ?? (isRefusal(caller) ? caller : null) ?? refusals[0] ?? null;
}

/** One token from the part's first usable lease; expired, exhausted and outdated leases leave. */
function takeToken(t: TenantLeases, part: Part, call: LeaseCall, acceptOlder: boolean): Lease | null {
  for (let i = 0; i < part.leases.length; ) {
    const l = part.leases[i]!;
    const outdated = !acceptOlder && l.version < call.version;
    if (l.expiresAt <= call.now || outdated || (!l.unlimited && l.left < 1)) {
      part.leases.splice(i, 1);
      retire(t, l);
      continue;
    }
    if (!l.unlimited) {
      l.left -= 1;
      part.used += 1;
    }
    return l;
  }
  return null;
}

/** A token taken for a call that was refused anyway goes back where it came from. */
function giveBack(t: TenantLeases, part: Part, l: Lease, now: number): void {
  if (l.unlimited) return;
  part.used = Math.max(0, part.used - 1);
  if (part.leases.includes(l) && l.expiresAt > now) {
    l.left += 1;
  } else if (l.id !== "") {
    t.returns.set(l.id, (t.returns.get(l.id) ?? 0) + 1);
  }
}

function retire(t: TenantLeases, l: Lease): void {
  if (!l.unlimited && l.left > 0 && l.id !== "") t.returns.set(l.id, (t.returns.get(l.id) ?? 0) + l.left);
  l.left = 0;
}

/** Retires every expired lease and forgets parts with nothing left and nothing in flight. */
function sweep(t: TenantLeases, now: number): void {
  for (const [key, part] of t.parts) {
    part.leases = part.leases.filter((l) => {
      if (l.expiresAt > now) return true;
      retire(t, l);
      return false;
    });
    if (part.leases.length === 0 && !part.inflight && part.waiting === 0) t.parts.delete(key);
  }
}

function takeReturns(t: TenantLeases): { id: string; unused: number }[] {
  const returns = [...t.returns].map(([id, unused]) => ({ id, unused }));
  t.returns.clear();
  return returns;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/**
 * The admit headers as the meter would send them: its state after the grant plus what this
 * lease still holds (exact with one holder; with several, other holders' leases count as used).
 */
function headersOf(leases: { tenant: Lease; caller: Lease | null }, now: number): Record<string, string> {
  const buckets: BucketStatus[] = [];
  for (const l of [leases.caller, leases.tenant]) {
    if (!l || l.unlimited) continue;
    for (const b of l.snapshot.buckets) {
      const state = refill({ tokens: b.tokens + l.left, updatedMs: b.updatedMs }, b.rule, now);
      buckets.push({ name: b.name, rule: b.rule, state });
    }
  }
  const quotas: Partial<Record<"daily" | "monthly", QuotaStatus>> = {};
  const l = leases.tenant;
  if (!l.unlimited) {
    for (const q of l.snapshot.quotas) {
      const windowSeconds = Math.round((q.endMs - q.startMs) / 1000);
      const used = q.used - l.left;
      quotas[q.name] = { name: q.name, limit: q.limit, used, windowSeconds, resetSeconds: secondsUntil(q.endMs, now) };
    }
  }
  return meterHeaders({ buckets, daily: quotas.daily, monthly: quotas.monthly });
}
