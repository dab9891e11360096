// Benchmarks only (`BENCH_METER_DELAY_MS`, src/config/env.ts): a TenantMeter stub whose every RPC
// waits first, to simulate a meter far from the dispatcher (a Durable Object lives in one place;
// an agent on another continent pays that round trip). meterFor uses it only when the var is set.
/** Generic over the stub type, so this file needs nothing from meter-config.ts (no import cycle). */
export function delayedMeter<Stub extends object>(stub: Stub, delayMs: number): Stub {
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
