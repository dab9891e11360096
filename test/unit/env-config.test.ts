// The typed config: defaults for unset vars (one 16 MiB dataset default, as wrangler.jsonc and the
// README say), validation that names the bad var, and one parse per raw values.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ConfigError, configOf, DEFAULT_MAX_DATASET_BYTES, parseConfig } from "../../src/config/env.ts";

const BASE = { API_KEY_SECRET: "k" };

describe("platform config", () => {
  it("fills every unset or empty var with its default", () => {
    const c = parseConfig({ ...BASE, CF_ACCOUNT_ID: "", FACILITATOR_URL: "  " });
    expect(c).toMatchObject({
      runtimeBackend: "loader",
      deployEnv: "test",
      maxDatasetBytes: 16 * 1024 * 1024,
      configCacheTtlMs: 30_000,
      leaderboardShards: 1,
      rollupPeriodSeconds: 60,
      allowLoopbackUpstreams: false,
      facilitatorUrl: null,
      chainRpcUrl: null,
      operatorToken: null,
      secretsKey: null,
      cloudflare: {
        accountId: null,
        dispatchNamespace: null,
        apiToken: null,
        apiBase: "https://api.cloudflare.com/client/v4",
        artifactsBucket: "claw-artifacts",
      },
    });
    expect(DEFAULT_MAX_DATASET_BYTES).toBe(16_777_216);
    expect([...c.platformHosts]).toEqual([]);
  });

  it("reads the values it is given", () => {
    const c = parseConfig({
      ...BASE,
      PLATFORM_HOSTS: " API.402claw.dev, localhost ,",
      RUNTIME_BACKEND: "dispatch",
      DEPLOY_ENV: "prod",
      MAX_DATASET_BYTES: "1048576",
      ALLOW_LOOPBACK_UPSTREAMS: "true",
      FACILITATOR_URL: "http://127.0.0.1:4021",
      CHAIN_RPC_URL: " http://127.0.0.1:8545 ",
      SECRETS_KEY: "0123456789abcdef",
    });
    expect(c.chainRpcUrl).toBe("http://127.0.0.1:8545");
    expect([...c.platformHosts]).toEqual(["api.402claw.dev", "localhost"]);
    expect(c).toMatchObject({
      runtimeBackend: "dispatch",
      deployEnv: "prod",
      maxDatasetBytes: 1_048_576,
      allowLoopbackUpstreams: true,
    });
    expect(c.facilitatorUrl).toBe("http://127.0.0.1:4021");
    expect(c.secretsKey).toBe("0123456789abcdef");
    expect(parseConfig({ ...BASE, SECRETS_KEY: "short" }).secretsKey).toBeNull();
  });

  it("refuses invalid values, naming the var", () => {
    const bad: [string, string][] = [
      ["MAX_DATASET_BYTES", "16MB"],
      ["MAX_DATASET_BYTES", "0"],
      ["CONFIG_CACHE_TTL_MS", "-1"],
      ["RUNTIME_BACKEND", "lambda"],
      ["ALLOW_LOOPBACK_UPSTREAMS", "yes"],
      ["FACILITATOR_URL", "not a url"],
      ["CHAIN_RPC_URL", "anvil"],
    ];
    for (const [name, value] of bad)
      expect(() => parseConfig({ ...BASE, [name]: value }), name).toThrow(new RegExp(`invalid ${name}`));
    expect(() => parseConfig({})).toThrow(ConfigError);
  });

  it("parses the worker's env once and again only when its raw values change", () => {
    const first = configOf(env);
    expect(configOf(env)).toBe(first);
    expect(first.maxDatasetBytes).toBe(Number(env.MAX_DATASET_BYTES));
    const changed = configOf({ ...env, MAX_DATASET_BYTES: "2048" } as unknown as Env);
    expect(changed).not.toBe(first);
    expect(changed.maxDatasetBytes).toBe(2048);
  });

  it("takes a bench-only unmetered slug outside production and refuses it in production", () => {
    expect(parseConfig(BASE).benchUnmeteredSlug).toBeNull();
    expect(parseConfig({ ...BASE, BENCH_UNMETERED_SLUG: "bench-raw" }).benchUnmeteredSlug).toBe("bench-raw");
    expect(() => parseConfig({ ...BASE, BENCH_UNMETERED_SLUG: "bench-raw", DEPLOY_ENV: "prod" })).toThrow(
      /invalid BENCH_UNMETERED_SLUG/,
    );
  });

  it("parses an env object once, whatever is asked of it afterwards", () => {
    const own = { ...env, MAX_DATASET_BYTES: "4096" } as unknown as Env;
    const first = configOf(own);
    configOf({ ...env, MAX_DATASET_BYTES: "8192" } as unknown as Env); // another env in between
    expect(configOf(own)).toBe(first);
    expect(first.maxDatasetBytes).toBe(4096);
  });
});
