// Benchmarks only (`BENCH_METER_DELAY_MS`, src/config/env.ts): a TenantMeter stub whose every RPC
// waits first, to simulate a meter far from the dispatcher (a Durable Object lives in one place;
// an agent on another continent pays that round trip). meterFor uses it only when the var is set.
import type { TenantMeterStub } from "./meter-config.ts";

export function delayedMeter(stub: TenantMeterStub, delayMs: number): TenantMeterStub {
  return new Proxy(stub, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) =>
        new Promise((resolve) => setTimeout(resolve, delayMs)).then(() =>
          (target as unknown as Record<PropertyKey, (...a: unknown[]) => unknown>)[prop]!(...args),
        );
    },
  });
}
