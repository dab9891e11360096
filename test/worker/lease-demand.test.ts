// A burst after a quiet spell (src/gateway/lease-demand.ts, docs/ARCHITECTURE.md §14): a part
// whose leases all expired asks for its last demand at once instead of growing again from one
// token, against a real TenantMeter; the memory ends after DEMAND_MEMORY_MS, and a part whose
// traffic fell asks small again after one burst.
import { afterEach, describe, expect, it } from "vitest";
import { LEASE_TTL_MS } from "../../objects/meter/lease-size.ts";
import { type LeaseCall, LeaseCache } from "../../src/gateway/lease-cache.ts";
import { DEMAND_MEMORY_MS, DemandMemory, MAX_REMEMBERED } from "../../src/gateway/lease-demand.ts";
import { configured, T0 } from "./meter-helpers.ts";

const SLUG = "weather-data";

let background: Promise<unknown>[] = [];
afterEach(async () => {
  await Promise.all(background);
  background = [];
});

/** One holder whose grants (asks with want > 0) are recorded with the time and size asked. */
async function holder() {
  const meter = await configured({ usageLimit: { dailyRequests: 1_000_000 } });
  const cache = new LeaseCache();
  const grants: { now: number; want: number }[] = [];
  const call = (now: number): LeaseCall => ({
    caller: "198.51.100.1",
    now,
    version: 1,
    perCaller: false,
    ask: (req) => {
      if (req.want > 0) grants.push({ now: req.now, want: req.want });
      return meter.lease(req);
    },
    defer: (work) => background.push(work.catch(() => undefined)),
  });
  /** `batches` rounds of ten calls at once, 5 ms apart, from `start`. */
  const burst = async (start: number, batches: number) => {
    for (let b = 0; b < batches; b++) {
      const now = start + 5 * b;
      const results = await Promise.all(Array.from({ length: 10 }, () => cache.admit(SLUG, call(now))));
      expect(results.every((r) => r.ok)).toBe(true);
    }
  };
  /** Lets every lease expire and be given back (the cache then forgets the tenant's parts). */
  const quiet = async (until: number) => {
    await Promise.all(background.splice(0));
    await cache.flush(SLUG, call(until).ask, until);
    expect(cache.outstanding(SLUG, until)).toBe(0);
  };
  const since = (now: number) => grants.filter((g) => g.now >= now);
  return { burst, quiet, since };
}

describe("leases after a quiet spell", () => {
  it("a burst within the memory asks for the last demand in its first grant, and grows no more", async () => {
    const h = await holder();
    await h.burst(T0, 40);
    const first = h.since(T0);
    // From nothing, the lease grows over several grants.
    expect(first.length).toBeGreaterThanOrEqual(4);
    const shown = first.at(-1)!.want;
    const again = T0 + 3 * LEASE_TTL_MS;
    await h.quiet(again - 1);
    await h.burst(again, 40);
    const second = h.since(again);
    expect(second[0]!.want).toBeGreaterThanOrEqual(shown);
    expect(second.length).toBeLessThan(first.length);
    expect(second.length).toBeLessThanOrEqual(2);
  });

  it("after DEMAND_MEMORY_MS a part starts from what its callers show again", async () => {
    const h = await holder();
    await h.burst(T0, 40);
    const later = T0 + DEMAND_MEMORY_MS + 2 * LEASE_TTL_MS;
    await h.quiet(later - 1);
    await h.burst(later, 1);
    expect(h.since(later)[0]!.want).toBeLessThanOrEqual(10);
  });

  it("a part whose traffic fell asks small again after one burst", async () => {
    const h = await holder();
    await h.burst(T0, 40);
    const small = T0 + 3 * LEASE_TTL_MS;
    await h.quiet(small - 1);
    await h.burst(small, 1); // ten calls: the first grant still asks the old demand
    const next = small + 3 * LEASE_TTL_MS;
    await h.quiet(next - 1);
    await h.burst(next, 1);
    expect(h.since(next)[0]!.want).toBeLessThanOrEqual(10);
  });
});

describe("DemandMemory", () => {
  it("recalls within the memory, forgets after it or when told 0, and stays bounded", () => {
    const m = new DemandMemory();
    m.remember("a", 300, 1_000);
    expect(m.recall("a", 1_000 + DEMAND_MEMORY_MS)).toBe(300);
    expect(m.recall("a", 1_001 + DEMAND_MEMORY_MS)).toBe(0);
    m.remember("b", 50, 0);
    m.remember("b", 0, 10);
    expect(m.recall("b", 20)).toBe(0);
    for (let i = 0; i <= MAX_REMEMBERED; i++) m.remember(`k${i}`, 1, 0);
    expect(m.recall("k0", 0)).toBe(0);
    expect(m.recall(`k${MAX_REMEMBERED}`, 0)).toBe(1);
  });
});
