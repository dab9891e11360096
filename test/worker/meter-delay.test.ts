// The bench-only simulated distance to the meter (src/tenancy/meter-delay.ts): off unless
// BENCH_METER_DELAY_MS is set; when set, every RPC waits that long and still returns the meter's
// own answer. A bad value fails loudly like any other var.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config/env.ts";
import { meterFor } from "../../src/tenancy/meter-config.ts";
import { cfg } from "./meter-helpers.ts";

const probe = () => ({ holder: "h", part: "tenant" as const, caller: "", want: 1, now: Date.now() });

describe("BENCH_METER_DELAY_MS", () => {
  it("is 0 (no wrapper) unless set, and must be a positive integer", () => {
    expect(parseConfig({ API_KEY_SECRET: "k" }).benchMeterDelayMs).toBe(0);
    expect(parseConfig({ API_KEY_SECRET: "k", BENCH_METER_DELAY_MS: "20" }).benchMeterDelayMs).toBe(20);
    expect(() => parseConfig({ API_KEY_SECRET: "k", BENCH_METER_DELAY_MS: "soon" })).toThrow(ConfigError);
  });

  it("delays every meter RPC when set, with the meter's own answers", async () => {
    const slug = `delay-${crypto.randomUUID().slice(0, 8)}`;
    const delayed = meterFor({ ...env, BENCH_METER_DELAY_MS: "60" } as Env, slug);
    const started = Date.now();
    expect(await delayed.configure(cfg({ slug }))).toEqual({ applied: true, version: 1 });
    const lease = await delayed.lease(probe());
    expect(Date.now() - started).toBeGreaterThanOrEqual(120);
    expect(lease).toMatchObject({ ok: true, tokens: null, configVersion: 1 });
    // The plain stub reaches the same (now configured) meter.
    expect(await meterFor(env, slug).lease(probe())).toMatchObject({ ok: true, configVersion: 1 });
  });
});
