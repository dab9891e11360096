// TenantMeter.lease (objects/meter/lease.ts) against a real meter: grants are debited at once,
// refusals take nothing, returns are credited once per lease id and never beyond the grant, and
// doubtful returns (another config version, unknown id) leave the tokens counted as used.
import { describe, expect, it } from "vitest";
import type { LeaseRequest, LeaseResult } from "../../objects/meter/types.ts";
import { LEASE_TTL_MS, MAX_LEASE_TOKENS } from "../../objects/meter/lease-size.ts";
import { admitted, admitMany, cfg, configured, DAY, freshMeter, T0 } from "./meter-helpers.ts";

function ask(overrides: Partial<LeaseRequest> = {}): LeaseRequest {
  return { holder: "h1", part: "tenant", caller: "", want: 10, now: T0, ...overrides };
}

function granted(r: LeaseResult): Extract<LeaseResult, { ok: true }> {
  if (!r.ok) throw new Error(`expected a grant, got ${r.code}`);
  return r;
}

describe("TenantMeter.lease", () => {
  it("debits a grant at once: admits see only what is left", async () => {
    const meter = await configured({ usageLimit: { dailyRequests: 100 } });
    const lease = granted(await meter.lease(ask({ want: 30 })));
    expect(lease.tokens).toBe(30);
    expect(lease.expiresAt).toBe(T0 + LEASE_TTL_MS);
    expect(lease.configVersion).toBe(1);
    expect(lease.snapshot.quotas).toEqual([
      { name: "daily", limit: 100, used: 30, startMs: T0 - 12 * 3_600_000, endMs: T0 + 12 * 3_600_000 },
    ]);
    expect(admitted(await admitMany(meter, 100, (i) => `c${i}`, T0))).toBe(70);
  });

  it("never grants more than the holder's share, and one token near the limit", async () => {
    const meter = await configured({ rateLimit: { global: { requests: 10, windowSeconds: 3600 } } });
    expect(granted(await meter.lease(ask({ want: 100 }))).tokens).toBe(5);
    expect(granted(await meter.lease(ask({ want: 100 }))).tokens).toBe(2);
    expect(granted(await meter.lease(ask({ want: 100 }))).tokens).toBe(1);
    expect(granted(await meter.lease(ask({ want: 100 }))).tokens).toBe(1);
    expect(granted(await meter.lease(ask({ want: 100 }))).tokens).toBe(1);
    const refused = await meter.lease(ask({ want: 100 }));
    expect(refused).toMatchObject({ ok: false, code: "rate_limited", status: 429 });
    expect(Number((refused as { headers: Record<string, string> }).headers["Retry-After"])).toBeGreaterThanOrEqual(1);
  });

  it("splits what remains between recent holders", async () => {
    const meter = await configured({ usageLimit: { dailyRequests: 1000 } });
    expect(granted(await meter.lease(ask({ holder: "a", want: 5000 }))).tokens).toBe(500);
    // Two holders now: b's share is a quarter of the 500 left.
    expect(granted(await meter.lease(ask({ holder: "b", want: 5000 }))).tokens).toBe(125);
    const big = await configured({ usageLimit: { dailyRequests: 1_000_000 } });
    expect(granted(await big.lease(ask({ want: 1e9 }))).tokens).toBe(MAX_LEASE_TOKENS);
  });

  it("a per-caller lease takes only that caller's bucket", async () => {
    const meter = await configured({ rateLimit: { perCaller: { requests: 4, windowSeconds: 3600 } } });
    const lease = granted(await meter.lease(ask({ part: "caller", caller: "alice", want: 10 })));
    expect(lease.tokens).toBe(2);
    expect(lease.snapshot.buckets.map((b) => [b.name, b.tokens])).toEqual([["caller", 2]]);
    expect(admitted(await admitMany(meter, 5, () => "alice", T0))).toBe(2);
    expect(admitted(await admitMany(meter, 5, () => "bob", T0))).toBe(4);
  });

  it("a part without limits grants no tokens, only the tenant state and version", async () => {
    const meter = await configured({ version: 3, rateLimit: { perCaller: { requests: 4, windowSeconds: 60 } } });
    const lease = granted(await meter.lease(ask({ part: "tenant" })));
    expect(lease).toMatchObject({ id: "", tokens: null, configVersion: 3, expiresAt: T0 + LEASE_TTL_MS });
  });

  it("refuses for an unconfigured or deleted tenant, taking nothing", async () => {
    expect(await freshMeter().lease(ask())).toMatchObject({ ok: false, code: "tenant_not_configured", status: 503 });
    const meter = await configured({ usageLimit: { dailyRequests: 10 } });
    await meter.configure(cfg({ version: 2, deleted: true, usageLimit: { dailyRequests: 10 } }));
    expect(await meter.lease(ask())).toMatchObject({ ok: false, code: "tenant_not_found", status: 404 });
  });

  it("credits a return once, never more than was granted", async () => {
    const meter = await configured({ usageLimit: { dailyRequests: 100 } });
    const lease = granted(await meter.lease(ask({ want: 40 })));
    // Returned twice and with more than granted: credited once, 40 at most.
    const returns = [{ id: lease.id, unused: 1000 }];
    granted(await meter.lease(ask({ want: 0, returns })));
    granted(await meter.lease(ask({ want: 0, returns })));
    expect(admitted(await admitMany(meter, 150, (i) => `c${i}`, T0))).toBe(100);
  });

  it("credits a partial return into the global bucket", async () => {
    const meter = await configured({ rateLimit: { global: { requests: 100, windowSeconds: 3600 } } });
    const lease = granted(await meter.lease(ask({ want: 20 })));
    granted(await meter.lease(ask({ want: 0, returns: [{ id: lease.id, unused: 15 }] })));
    expect(admitted(await admitMany(meter, 150, (i) => `c${i}`, T0))).toBe(95);
  });

  it("ignores returns of unknown ids, of another config version, and after a day change", async () => {
    const meter = await configured({ usageLimit: { dailyRequests: 100 } });
    const a = granted(await meter.lease(ask({ want: 10 })));
    granted(await meter.lease(ask({ want: 0, returns: [{ id: "not-a-lease", unused: 50 }] })));
    await meter.configure(cfg({ version: 2, usageLimit: { dailyRequests: 100 } }));
    granted(await meter.lease(ask({ want: 0, returns: [{ id: a.id, unused: 10 }] })));
    expect(admitted(await admitMany(meter, 150, (i) => `c${i}`, T0))).toBe(90);

    const other = await configured({ usageLimit: { dailyRequests: 100 } });
    const late = granted(await other.lease(ask({ now: T0 + DAY / 2 - 300, want: 10 })));
    expect(late.expiresAt).toBe(T0 + DAY / 2); // never past the end of the quota window
    granted(await other.lease(ask({ now: T0 + DAY / 2 + 10, want: 0, returns: [{ id: late.id, unused: 10 }] })));
    expect(admitted(await admitMany(other, 150, (i) => `c${i}`, T0 + DAY / 2 + 20))).toBe(100);
  });
});
