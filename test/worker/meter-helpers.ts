// Shared helpers of the TenantMeter tests that drive free calls (meter-admission.test.ts,
// meter-stats.test.ts): fresh meters, configs, concurrent admits.
//
// Clock: every call passes `now` a few years in the future. The meter's alarm runs on the real
// clock, so future timestamps keep it from firing (and pruning) in the middle of a test.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { AdmitResult, MeterConfig, UsageRecord } from "../../objects/meter/types.ts";
import type { TenantMeter } from "../../objects/meter/tenant-meter.ts";

export const YEAR = new Date().getUTCFullYear() + 3;
/** 10 June, noon UTC, three years from now. */
export const T0 = Date.UTC(YEAR, 5, 10, 12, 0, 0);
export const SECOND = 1000;
export const DAY = 86_400_000;

let counter = 0;
export function freshMeter(): DurableObjectStub<TenantMeter> {
  const slug = `meter-test-${++counter}-${crypto.randomUUID().slice(0, 8)}`;
  return env.TENANT_METER.get(env.TENANT_METER.idFromName(slug)) as DurableObjectStub<TenantMeter>;
}

export function cfg(overrides: Partial<MeterConfig> = {}): MeterConfig {
  return {
    slug: "weather-data",
    version: 1,
    deleted: false,
    rateLimit: {},
    usageLimit: {},
    spendLimit: {},
    priceAtomic: "0",
    ...overrides,
  };
}

export async function configured(overrides: Partial<MeterConfig>): Promise<DurableObjectStub<TenantMeter>> {
  const stub = freshMeter();
  const result = await stub.configure(cfg(overrides));
  expect(result).toEqual({ applied: true, version: overrides.version ?? 1 });
  return stub;
}

export function admitMany(
  stub: DurableObjectStub<TenantMeter>,
  n: number,
  caller: (i: number) => string,
  now: number,
): Promise<AdmitResult[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => stub.admit({ caller: caller(i), now })));
}

/** Runs `fn` inside the object and returns what it threw, as "Name: message" ("" if nothing). */
export function thrownInside(
  stub: DurableObjectStub<TenantMeter>,
  fn: (meter: TenantMeter) => unknown,
): Promise<string> {
  return runInDurableObject(stub, (meter) => {
    try {
      fn(meter);
      return "";
    } catch (err) {
      return String(err);
    }
  });
}

export function admitted(results: AdmitResult[]): number {
  return results.filter((r) => r.ok).length;
}

export function refusal(r: AdmitResult): Extract<AdmitResult, { ok: false }> {
  if (r.ok) throw new Error("expected a refusal, got an admit");
  return r;
}

export function usage(overrides: Partial<UsageRecord>): UsageRecord {
  return {
    requestId: crypto.randomUUID(),
    ts: T0,
    caller: "c",
    status: 200,
    latencyMs: 10,
    outcome: "served",
    ...overrides,
  };
}
