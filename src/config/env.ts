// The deployment's configuration: every var and secret of wrangler.jsonc / .dev.vars, parsed and
// validated once (valibot) into a typed object. Handlers read `configOf(env)`, never `env.X`
// strings (bindings such as DB or ARTIFACTS are still read from env). Parsed once per isolate and
// raw values: a test or a redeploy with other values gets a fresh parse.
//
// Missing or empty → the documented default. Present but invalid → ConfigError: a misconfigured
// deployment fails loudly (500, logged with the var's name) instead of running on a guess.
import * as v from "valibot";

export const DEFAULT_MAX_DATASET_BYTES = 16 * 1024 * 1024;
export const DEFAULT_CONFIG_CACHE_TTL_MS = 30_000;
export const DEFAULT_CF_API_BASE = "https://api.cloudflare.com/client/v4";
export const DEFAULT_ARTIFACTS_BUCKET = "claw-artifacts";

/** The raw vars this module reads (names as in wrangler.jsonc and src/env.d.ts). */
const VAR_NAMES = [
  "PLATFORM_HOSTS",
  "RUNTIME_BACKEND",
  "DEPLOY_ENV",
  "MAX_DATASET_BYTES",
  "CONFIG_CACHE_TTL_MS",
  "LEADERBOARD_SHARDS",
  "ROLLUP_PERIOD_SECONDS",
  "ALLOW_LOOPBACK_UPSTREAMS",
  "CF_ACCOUNT_ID",
  "CF_DISPATCH_NAMESPACE",
  "CF_API_BASE",
  "CF_API_TOKEN",
  "ARTIFACTS_BUCKET_NAME",
  "FACILITATOR_URL",
  "CHAIN_RPC_URL",
  "OPERATOR_TOKEN",
  "API_KEY_SECRET",
  "SECRETS_KEY",
  "BENCH_METER_DELAY_MS",
  "BENCH_UNMETERED_SLUG",
  "RECEIPT_SIGNING_KEY",
  "RECEIPT_PREVIOUS_SIGNERS",
] as const;
type VarName = (typeof VAR_NAMES)[number];

const Text = v.optional(v.pipe(v.string(), v.trim()));
const PositiveInt = (max: number) =>
  v.pipe(
    v.string(),
    v.trim(),
    v.regex(/^\d{1,12}$/, "must be a positive integer"),
    v.transform(Number),
    v.integer(),
    v.minValue(1),
    v.maxValue(max),
  );
const Flag = v.pipe(
  v.string(),
  v.trim(),
  v.picklist(["true", "false"], "must be true or false"),
  v.transform((s) => s === "true"),
);

const RawSchema = v.object({
  PLATFORM_HOSTS: v.optional(v.string(), ""),
  RUNTIME_BACKEND: v.optional(v.picklist(["loader", "dispatch"], "must be loader or dispatch"), "loader"),
  DEPLOY_ENV: v.optional(v.string(), "test"),
  MAX_DATASET_BYTES: v.optional(PositiveInt(1024 * 1024 * 1024), String(DEFAULT_MAX_DATASET_BYTES)),
  CONFIG_CACHE_TTL_MS: v.optional(PositiveInt(86_400_000), String(DEFAULT_CONFIG_CACHE_TTL_MS)),
  LEADERBOARD_SHARDS: v.optional(PositiveInt(64), "1"),
  ROLLUP_PERIOD_SECONDS: v.optional(PositiveInt(86_400), "60"),
  ALLOW_LOOPBACK_UPSTREAMS: v.optional(Flag, "false"),
  CF_ACCOUNT_ID: Text,
  CF_DISPATCH_NAMESPACE: Text,
  CF_API_BASE: v.optional(v.pipe(v.string(), v.trim(), v.url("must be a URL")), DEFAULT_CF_API_BASE),
  CF_API_TOKEN: Text,
  ARTIFACTS_BUCKET_NAME: v.optional(v.pipe(v.string(), v.trim()), DEFAULT_ARTIFACTS_BUCKET),
  FACILITATOR_URL: v.optional(v.pipe(v.string(), v.trim(), v.url("must be a URL"))),
  CHAIN_RPC_URL: v.optional(v.pipe(v.string(), v.trim(), v.url("must be a URL"))),
  OPERATOR_TOKEN: Text,
  API_KEY_SECRET: Text,
  SECRETS_KEY: Text,
  BENCH_METER_DELAY_MS: v.optional(PositiveInt(10_000)),
  BENCH_UNMETERED_SLUG: Text,
  // A 32-byte secp256k1 private key (hex, 0x optional) and the addresses of retired ones (src/receipts/).
  RECEIPT_SIGNING_KEY: v.optional(
    v.pipe(v.string(), v.trim(), v.regex(/^(0x)?[0-9a-fA-F]{64}$/, "must be a 32-byte hex private key")),
  ),
  RECEIPT_PREVIOUS_SIGNERS: v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.regex(/^0x[0-9a-fA-F]{40}(\s*,\s*0x[0-9a-fA-F]{40})*$/, "must be comma-separated 0x addresses"),
    ),
  ),
});

export interface PlatformConfig {
  /** Hosts that serve platform routes and /t/:slug/* (lowercase, ports ignored when matching). */
  platformHosts: ReadonlySet<string>;
  runtimeBackend: "loader" | "dispatch";
  /** Usage events are `prod` only on a deployment that says so. */
  deployEnv: "prod" | "test";
  maxDatasetBytes: number;
  configCacheTtlMs: number;
  leaderboardShards: number;
  rollupPeriodSeconds: number;
  allowLoopbackUpstreams: boolean;
  /** Workers for Platforms publishing; null fields are not configured. */
  cloudflare: {
    accountId: string | null;
    dispatchNamespace: string | null;
    apiBase: string;
    apiToken: string | null;
    artifactsBucket: string;
  };
  /** x402 facilitator base URL; null: paid calls fail closed with 503 payments_unavailable. */
  facilitatorUrl: string | null;
  /**
   * JSON-RPC URL of the chain the payments settle on; null: the TenantMeter's reconciler decides
   * from the facilitator alone (what it cannot tell stays held for an operator).
   */
  chainRpcUrl: string | null;
  operatorToken: string | null;
  /** HMAC key for API keys and caller IPs at rest. */
  apiKeySecret: string;
  /** Master key of tenant secrets; null when missing or shorter than 16 characters. */
  secretsKey: string | null;
  /**
   * Benchmarks only (`npm run bench`, never set in wrangler.jsonc): every TenantMeter RPC waits
   * this long first, to simulate distance between dispatcher and meter (src/tenancy/meter-delay.ts).
   * 0 = unset: no wrapper at all.
   */
  benchMeterDelayMs: number;
  /**
   * Benchmarks only (never set in wrangler.jsonc, refused with DEPLOY_ENV=prod): the free calls of
   * this one tenant skip the meter (no admit, no usage or telemetry record) on the same runtime hop,
   * so `npm run bench` can state the metered call as a share of the same call unmetered.
   */
  benchUnmeteredSlug: string | null;
  /**
   * Signed offers and receipts (x402 `offer-receipt`, src/receipts/): the current signing key
   * (null: no offers, no receipts) and the lowercase addresses of previous keys, still published.
   */
  receipts: { signingKey: `0x${string}` | null; previousSigners: readonly string[] };
}

/** A var is set to a value that is not valid for it. */
export class ConfigError extends Error {}

/** Comma-separated PLATFORM_HOSTS → lowercase set (ports are ignored when matching). */
export function parsePlatformHosts(value: string): ReadonlySet<string> {
  return new Set(
    value
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
}

const nonEmpty = (s: string | undefined): string | null => (s ? s : null);

/** Parses raw var values (unset and "" are the same). Throws ConfigError naming the bad var. */
export function parseConfig(raw: Partial<Record<VarName, string | undefined>>): PlatformConfig {
  const present: Record<string, string> = {};
  for (const name of VAR_NAMES) {
    const value = raw[name];
    if (typeof value === "string" && value.trim() !== "") present[name] = value;
  }
  const parsed = v.safeParse(RawSchema, present);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const name = issue?.path?.map((p) => String(p.key)).join(".") ?? "?";
    throw new ConfigError(`invalid ${name}: ${issue?.message ?? "invalid"}`);
  }
  const c = parsed.output;
  if (!c.API_KEY_SECRET) {
    throw new ConfigError("API_KEY_SECRET is not set (it keys the hashes of API keys and caller IPs)");
  }
  const secretsKey = c.SECRETS_KEY && c.SECRETS_KEY.length >= 16 ? c.SECRETS_KEY : null;
  return {
    platformHosts: parsePlatformHosts(c.PLATFORM_HOSTS),
    runtimeBackend: c.RUNTIME_BACKEND,
    deployEnv: c.DEPLOY_ENV.trim() === "prod" ? "prod" : "test",
    maxDatasetBytes: c.MAX_DATASET_BYTES,
    configCacheTtlMs: c.CONFIG_CACHE_TTL_MS,
    leaderboardShards: c.LEADERBOARD_SHARDS,
    rollupPeriodSeconds: c.ROLLUP_PERIOD_SECONDS,
    allowLoopbackUpstreams: c.ALLOW_LOOPBACK_UPSTREAMS,
    cloudflare: {
      accountId: nonEmpty(c.CF_ACCOUNT_ID),
      dispatchNamespace: nonEmpty(c.CF_DISPATCH_NAMESPACE),
      apiBase: c.CF_API_BASE,
      apiToken: nonEmpty(c.CF_API_TOKEN),
      artifactsBucket: c.ARTIFACTS_BUCKET_NAME || DEFAULT_ARTIFACTS_BUCKET,
    },
    facilitatorUrl: nonEmpty(c.FACILITATOR_URL),
    chainRpcUrl: nonEmpty(c.CHAIN_RPC_URL),
    operatorToken: nonEmpty(c.OPERATOR_TOKEN),
    apiKeySecret: c.API_KEY_SECRET,
    secretsKey,
    benchMeterDelayMs: c.BENCH_METER_DELAY_MS ?? 0,
    benchUnmeteredSlug: benchUnmeteredSlug(c.BENCH_UNMETERED_SLUG, c.DEPLOY_ENV),
    receipts: receiptKeys(c.RECEIPT_SIGNING_KEY, c.RECEIPT_PREVIOUS_SIGNERS),
  };
}

function benchUnmeteredSlug(slug: string | undefined, deployEnv: string): string | null {
  if (!slug) return null;
  if (deployEnv.trim() === "prod")
    throw new ConfigError("invalid BENCH_UNMETERED_SLUG: benchmarks only, not with DEPLOY_ENV=prod");
  return slug;
}

function receiptKeys(key: string | undefined, previous: string | undefined): PlatformConfig["receipts"] {
  const signingKey = key ? (`0x${key.replace(/^0x/, "").toLowerCase()}` as const) : null;
  const previousSigners = (previous ?? "")
    .split(",")
    .map((a) => a.trim().toLowerCase())
    .filter(Boolean);
  return { signingKey, previousSigners: [...new Set(previousSigners)] };
}

// One entry: an isolate serves one deployment, so its raw values rarely change.
let memo: { key: string; config: PlatformConfig } | null = null;

/**
 * Per env object: workerd hands every request of an isolate the same env, so the hot path reads
 * one map entry instead of walking every var (an env is never mutated in place; tests that vary
 * vars pass a new object).
 */
const byEnv = new WeakMap<object, PlatformConfig>();

/** The typed config of `env`, parsed once per isolate and raw values. */
export function configOf(env: Env): PlatformConfig {
  const known = byEnv.get(env);
  if (known) return known;
  const config = configOfValues(env);
  byEnv.set(env, config);
  return config;
}

function configOfValues(env: Env): PlatformConfig {
  const raw = env as unknown as Partial<Record<VarName, unknown>>;
  const values: Partial<Record<VarName, string>> = {};
  let key = "";
  for (const name of VAR_NAMES) {
    const value = raw[name];
    if (typeof value === "string") values[name] = value;
    key += `${typeof value === "string" ? value : ""}\u0000`;
  }
  if (memo?.key === key) return memo.config;
  const config = parseConfig(values);
  memo = { key, config };
  return config;
}
