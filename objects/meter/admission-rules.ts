// The vocabulary of admission (docs/ARCHITECTURE.md §4): the limit plan a check hands to take(),
// the parts a lease asks for, and the pure refusals and rule helpers. Pure; admission.ts owns the
// storage and order, and re-exports these for its callers.
import type { RateLimitRule } from "../../src/config/tenant-config.ts";
import { secondsUntil } from "../shared/time.ts";
import { bucketCapacity, type BucketState, type QuotaStatus } from "./limits.ts";
import type { AdmitResult, MeterConfig } from "./types.ts";

export type BucketKind = "c" | "g";
export type QuotaKind = "d" | "m";
/** Which limits a check looks at: a lease (lease.ts) asks for the caller's or the tenant's only. */
export interface LimitParts {
  caller: boolean;
  tenant: boolean;
}
export const ALL_PARTS: LimitParts = { caller: true, tenant: true };
export type Refusal = Extract<AdmitResult, { ok: false }>;

/** A quota window's counter as cached in memory: valid for now in [startMs, endMs). */
export interface WindowCounter {
  period: string;
  startMs: number;
  endMs: number;
  count: number;
}

/** Limits found to allow a call, to be taken once every other check passed. */
export interface LimitPlan {
  caller: string;
  callerState: BucketState | undefined;
  globalState: BucketState | undefined;
  day: WindowCounter | null;
  month: WindowCounter | null;
}

export type LimitCheck = { ok: true; plan: LimitPlan } | { ok: false; refusal: Refusal };

/** Admitted calls recorded in the usage stats between two instants (seeds a new quota). */
export type RecordedAdmits = (startMs: number, endMs: number) => number;

export function notConfigured(): Refusal {
  const message = "This API is not configured yet; try again shortly.";
  return { ok: false, code: "tenant_not_configured", status: 503, message, configVersion: 0, headers: {} };
}

export function notFound(cfg: MeterConfig): Refusal {
  const message = `No API named "${cfg.slug}".`;
  return { ok: false, code: "tenant_not_found", status: 404, message, configVersion: cfg.version, headers: {} };
}

/** The refusal for a tenant that cannot take calls at all, or null when it can. */
export function tenantRefusal(cfg: MeterConfig | null): Refusal | null {
  if (cfg === null) return notConfigured();
  return cfg.deleted ? notFound(cfg) : null;
}

/** A usable `now` from a request: the caller's clock when it is a number, else ours. */
export function requestNow(now: unknown): number {
  return typeof now === "number" && Number.isFinite(now) ? now : Date.now();
}

export function sameRule(a: RateLimitRule | undefined, b: RateLimitRule | undefined): boolean {
  if (!a || !b) return a === b;
  return a.requests === b.requests && a.windowSeconds === b.windowSeconds && bucketCapacity(a) === bucketCapacity(b);
}

export function describeRule(rule: RateLimitRule): string {
  const burst = rule.burst !== undefined ? `, burst ${rule.burst}` : "";
  return `${rule.requests} requests per ${rule.windowSeconds} s${burst}`;
}

export function quotaStatus(
  name: "daily" | "monthly",
  limit: number,
  counter: WindowCounter,
  now: number,
): QuotaStatus {
  const windowSeconds = Math.round((counter.endMs - counter.startMs) / 1000);
  return { name, limit, used: counter.count, windowSeconds, resetSeconds: secondsUntil(counter.endMs, now) };
}
