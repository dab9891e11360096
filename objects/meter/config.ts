// The meter's copy of its tenant's config (docs/ARCHITECTURE.md §4): validated when the control
// plane pushes it, kept in memory and in meta 'config'. A push older than the stored version is
// ignored, so pushes that arrive out of order never roll a tenant back.
import * as v from "valibot";
import { RateLimitSchema, SpendLimitSchema, UsageLimitSchema } from "../../src/config/tenant-config.ts";
import { ATOMIC_PATTERN } from "../shared/money.ts";
import type { MeterConfig } from "./types.ts";

const AtomicSchema = v.pipe(v.string(), v.regex(ATOMIC_PATTERN, "must be a non-negative integer string"));

const MeterConfigSchema = v.object({
  slug: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  version: v.pipe(v.number(), v.integer(), v.minValue(1)),
  deleted: v.boolean(),
  rateLimit: RateLimitSchema,
  usageLimit: UsageLimitSchema,
  spendLimit: SpendLimitSchema,
  priceAtomic: v.pipe(v.string(), v.regex(/^\d{1,78}$/, "priceAtomic must be a non-negative integer string")),
  spendCapsAtomic: v.optional(
    v.object({
      daily: v.optional(AtomicSchema),
      monthly: v.optional(AtomicSchema),
      perPayerDaily: v.optional(AtomicSchema),
    }),
  ),
  events: v.optional(
    v.object({
      owner: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
      directory: v.pipe(v.string(), v.maxLength(64)),
      network: v.pipe(v.string(), v.maxLength(64)),
      env: v.picklist(["prod", "test"]),
    }),
  ),
});

/** A pushed config, validated; throws TypeError naming the first bad field. */
export function parseMeterConfig(input: unknown): MeterConfig {
  const parsed = v.safeParse(MeterConfigSchema, input);
  if (parsed.success) return parsed.output;
  const issue = parsed.issues[0];
  const path = issue.path?.map((p) => String(p.key)).join(".") ?? "";
  throw new TypeError(`invalid MeterConfig${path ? ` at ${path}` : ""}: ${issue.message}`);
}

export class ConfigStore {
  private config: MeterConfig | null;

  constructor(private readonly sql: SqlStorage) {
    const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'config'").toArray()[0];
    this.config = row ? (JSON.parse(row.value) as MeterConfig) : null;
  }

  /** The config in force, or null before the first push. */
  get current(): MeterConfig | null {
    return this.config;
  }

  save(next: MeterConfig): void {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES ('config', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      JSON.stringify(next),
    );
    this.config = next;
  }
}
