// TenantConfig: the one validated shape of a tenant (docs/ARCHITECTURE.md §5). Every write goes through
// `parseTenantConfigInput` (what a creator may send) and is completed by the control plane
// into a `TenantConfig` (what is stored in D1 and pushed to the TenantMeter).
import * as v from "valibot";
import { PLAN_NAMES } from "./plans.ts";
import { slugProblem } from "./slug.ts";
import { PricesSchema } from "./prices.ts";
import { DatasetExampleSchema, DatasetFieldSchema, OperationsSchema } from "../discovery/declarations.ts";

const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));
const nonNegativeUsd = v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(1_000_000));

export const RateLimitRuleSchema = v.strictObject({
  /** Tokens added per window; also the bucket capacity unless `burst` is given. */
  requests: v.pipe(positiveInt, v.maxValue(10_000_000)),
  windowSeconds: v.pipe(positiveInt, v.maxValue(31 * 86_400)),
  burst: v.optional(v.pipe(positiveInt, v.maxValue(10_000_000))),
});
export type RateLimitRule = v.InferOutput<typeof RateLimitRuleSchema>;

export const RateLimitSchema = v.strictObject({
  perCaller: v.optional(RateLimitRuleSchema),
  global: v.optional(RateLimitRuleSchema),
});

export const UsageLimitSchema = v.strictObject({
  dailyRequests: v.optional(positiveInt),
  monthlyRequests: v.optional(positiveInt),
});

export const SpendLimitSchema = v.strictObject({
  dailyUsd: v.optional(nonNegativeUsd),
  monthlyUsd: v.optional(nonNegativeUsd),
  perPayerDailyUsd: v.optional(nonNegativeUsd),
});

export const AddressSchema = v.pipe(
  v.string(),
  v.regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address"),
);

export const AssetSchema = v.strictObject({
  address: AddressSchema,
  /** EIP-712 domain name of the token (x402 `extra.name`). */
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  /** EIP-712 domain version of the token (x402 `extra.version`). */
  version: v.pipe(v.string(), v.minLength(1), v.maxLength(16)),
  decimals: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(36)),
});
export type Asset = v.InferOutput<typeof AssetSchema>;

export const HostSchema = v.pipe(
  v.string(),
  v.toLowerCase(),
  v.regex(
    /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/,
    "must be a DNS host name",
  ),
);

export const SlugSchema = v.pipe(
  v.string(),
  v.check(
    (s) => slugProblem(s) === null,
    (issue) =>
      `invalid slug (${slugProblem(String(issue.input))}): lowercase a-z, 0-9 and '-', 3-40 chars, not reserved`,
  ),
);

export const DatasetResourceSchema = v.strictObject({
  type: v.literal("dataset"),
  format: v.picklist(["csv", "json"]),
  /** Field used by GET /v1/records/:id; defaults to `id` when present, else the row number. */
  idField: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))),
});

/** What a creator may set. The control plane fills owner, version, resource stats, defaults. */
export const TenantConfigInputSchema = v.strictObject({
  description: v.optional(v.pipe(v.string(), v.maxLength(2000)), ""),
  directory: v.optional(
    v.pipe(
      v.string(),
      v.toLowerCase(),
      v.regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "directory: lowercase [a-z0-9-], up to 40 chars"),
    ),
    "general",
  ),
  /** The default price: every call no `prices` pattern matches. */
  priceUsd: v.optional(nonNegativeUsd, 0),
  /** Price per operation, "GET /v1/search" → USD (src/config/prices.ts); 0 makes it a free call. */
  prices: v.optional(PricesSchema, {}),
  payTo: v.optional(AddressSchema),
  network: v.optional(
    v.pipe(v.string(), v.regex(/^eip155:\d+$/, "network must be a CAIP-2 eip155 id")),
    "eip155:84532",
  ),
  asset: v.optional(AssetSchema),
  hosts: v.optional(v.pipe(v.array(HostSchema), v.maxLength(10)), []),
  plan: v.optional(v.picklist(PLAN_NAMES), "free"),
  limits: v.optional(
    v.strictObject({
      cpuMs: v.optional(v.pipe(positiveInt, v.maxValue(300_000))),
      subRequests: v.optional(v.pipe(positiveInt, v.maxValue(10_000))),
    }),
  ),
  rateLimit: v.optional(RateLimitSchema, {}),
  usageLimit: v.optional(UsageLimitSchema, {}),
  spendLimit: v.optional(SpendLimitSchema, {}),
  resource: v.optional(DatasetResourceSchema),
});
export type TenantConfigInput = v.InferOutput<typeof TenantConfigInputSchema>;

/** Partial update (PATCH): every creator-settable field optional, nothing defaulted. */
export const TenantConfigPatchSchema = v.partial(
  v.strictObject({
    description: v.pipe(v.string(), v.maxLength(2000)),
    directory: v.pipe(v.string(), v.toLowerCase(), v.regex(/^[a-z0-9][a-z0-9-]{0,39}$/)),
    priceUsd: nonNegativeUsd,
    /** Replaces the whole map. Checked by checkTenantConfig so a bad one answers `invalid_price`. */
    prices: v.unknown(),
    payTo: AddressSchema,
    network: v.pipe(v.string(), v.regex(/^eip155:\d+$/)),
    asset: AssetSchema,
    hosts: v.pipe(v.array(HostSchema), v.maxLength(10)),
    plan: v.picklist(PLAN_NAMES),
    rateLimit: RateLimitSchema,
    usageLimit: UsageLimitSchema,
    spendLimit: SpendLimitSchema,
  }),
);
export type TenantConfigPatch = v.InferOutput<typeof TenantConfigPatchSchema>;

/** Facts about the deployed artifact, computed by the control plane, never sent by creators. */
export const DatasetArtifactSchema = v.strictObject({
  type: v.literal("dataset"),
  format: v.picklist(["csv", "json"]),
  idField: v.nullable(v.string()),
  rows: v.pipe(v.number(), v.integer(), v.minValue(0)),
  bytes: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** R2 key of the normalized dataset (records + schema) for this version. */
  dataKey: v.string(),
  /** R2 key of the tenant worker module for this version. */
  codeKey: v.string(),
  /** The parsed columns, stored with the version so discovery documents need no R2 read (ARCHITECTURE §11). */
  fields: v.optional(v.pipe(v.array(DatasetFieldSchema), v.maxLength(500))),
  /** The first record (long strings cut), the real example of the discovery documents. */
  example: v.optional(DatasetExampleSchema),
});
export type DatasetArtifact = v.InferOutput<typeof DatasetArtifactSchema>;

export const SecretNameSchema = v.pipe(
  v.string(),
  v.regex(/^[A-Z][A-Z0-9_]{0,63}$/, "secret names match [A-Z][A-Z0-9_]{0,63}"),
);
export const HttpHeaderNameSchema = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, "must be an HTTP header name"),
);
export const HttpMethodSchema = v.pipe(
  v.string(),
  v.toUpperCase(),
  v.picklist(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
);

export const FUNCTION_MAX_DURATION_MS = 30_000;
export const FUNCTION_DEFAULT_DURATION_MS = 10_000;

/** A function tenant: the creator's bundled ES module, run behind our wrapper and egress gateway. */
export const FunctionArtifactSchema = v.strictObject({
  type: v.literal("function"),
  /** Host names the code may fetch (exact match, lowercase); everything else is refused by the egress gateway. */
  allowedHosts: v.pipe(v.array(HostSchema), v.maxLength(50)),
  maxDurationMs: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(FUNCTION_MAX_DURATION_MS)),
  /** Secret names that reach the code as env vars; no other secret does. */
  exposeEnv: v.pipe(v.array(SecretNameSchema), v.maxLength(50)),
  bytes: v.pipe(v.number(), v.integer(), v.minValue(0)),
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  /** R2 key of the instrumented user module for this version. */
  codeKey: v.string(),
  /** Declared operations (config.input/output or a list), for discovery (ARCHITECTURE §11). */
  operations: v.optional(OperationsSchema),
});
export type FunctionArtifact = v.InferOutput<typeof FunctionArtifactSchema>;

export const ProxyHeaderSchema = v.strictObject({
  /** Name of a tenant secret; its value is injected, never stored here. */
  secret: SecretNameSchema,
  prefix: v.optional(v.pipe(v.string(), v.maxLength(64), v.regex(/^[\x20-\x7e]*$/, "printable ASCII only"))),
});

export const ProxyTransformSchema = v.strictObject({
  /** Keys to keep (dotted paths reach into nested objects); applied to an object or each element of an array. */
  pick: v.optional(v.pipe(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(200))), v.maxLength(100))),
  /** Top-level key renames, applied after pick. */
  rename: v.optional(
    v.pipe(
      v.record(
        v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
        v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
      ),
      v.check((r) => Object.keys(r).length <= 100, "at most 100 renames"),
    ),
  ),
});
export type ProxyTransform = v.InferOutput<typeof ProxyTransformSchema>;

/**
 * How a proxy reports a usage-priced (upto) call's charge (src/runtimes/proxy/charge-rule.ts): an
 * upstream response header carrying USD, or a number in the upstream's JSON body times a USD unit
 * price (e.g. `usage.total_tokens` × 0.000002).
 */
export const ProxyChargeSchema = v.union([
  v.strictObject({ header: HttpHeaderNameSchema }),
  v.strictObject({
    jsonPath: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,9}$/, "a dotted path")),
    unitUsd: v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(1_000_000)),
  }),
]);
export type ProxyCharge = v.InferOutput<typeof ProxyChargeSchema>;

/** A proxy tenant: our proxy engine forwards to `upstream` (its base path kept). */
export const ProxyArtifactSchema = v.strictObject({
  type: v.literal("proxy"),
  upstream: v.pipe(v.string(), v.url(), v.maxLength(2000)),
  methods: v.pipe(v.array(HttpMethodSchema), v.minLength(1), v.maxLength(7)),
  headers: v.pipe(
    v.record(HttpHeaderNameSchema, ProxyHeaderSchema),
    v.check((h) => Object.keys(h).length <= 20, "at most 20 injected headers"),
  ),
  cacheTtlSeconds: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(86_400)),
  transform: v.optional(ProxyTransformSchema),
  /** The charge report of usage-priced operations (README "Pricing"). */
  charge: v.optional(ProxyChargeSchema),
  allowLoopback: v.boolean(),
  /** Declared operations (flags or an upstream OpenAPI), for discovery (ARCHITECTURE §11). */
  operations: v.optional(OperationsSchema),
});
export type ProxyArtifact = v.InferOutput<typeof ProxyArtifactSchema>;

export const TenantConfigSchema = v.strictObject({
  ...TenantConfigInputSchema.entries,
  slug: SlugSchema,
  owner: v.pipe(v.string(), v.minLength(1)),
  resourceType: v.picklist(["dataset", "function", "proxy"]),
  version: positiveInt,
  resource: v.variant("type", [DatasetArtifactSchema, FunctionArtifactSchema, ProxyArtifactSchema]),
  /** Names (never values) of the tenant's stored secrets. */
  secretNames: v.optional(v.pipe(v.array(SecretNameSchema), v.maxLength(200)), []),
  createdAt: v.number(),
  updatedAt: v.number(),
});
export type TenantConfig = v.InferOutput<typeof TenantConfigSchema>;

/** Rules that span fields (valibot checks shapes; this checks meaning). Returns problems. */
export function crossFieldProblems(config: Pick<TenantConfigInput, "priceUsd" | "payTo">): string[] {
  const problems: string[] = [];
  if (config.priceUsd > 0 && !config.payTo) problems.push("payTo is required when priceUsd > 0");
  return problems;
}
