// The contract between the dispatcher and the TenantMeter Durable Object: what is pushed on
// configure, what admit takes and returns, and the usage record of a finished call.
import type { RateLimitRule } from "../src/config/tenant-config.ts";

/** The slice of TenantConfig that the meter enforces. Pushed by the control plane on every change. */
export interface MeterConfig {
  slug: string;
  version: number;
  /** True once the tenant is deleted: every admit is refused with `tenant_not_found`. */
  deleted: boolean;
  rateLimit: { perCaller?: RateLimitRule; global?: RateLimitRule };
  usageLimit: { dailyRequests?: number; monthlyRequests?: number };
  spendLimit: { dailyUsd?: number; monthlyUsd?: number; perPayerDailyUsd?: number };
  /** Price of one call in the asset's atomic units, as a decimal string (0 = free). */
  priceAtomic: string;
}

export interface AdmitRequest {
  /** Identity that limits apply to: verified payer address, or a hash of the client IP. */
  caller: string;
  /** Wall clock in ms since epoch (passed in so tests and the meter agree on windows). */
  now: number;
}

export type RefusalCode = "rate_limited" | "quota_exceeded" | "tenant_not_found" | "tenant_not_configured";

export type AdmitResult =
  | {
      ok: true;
      /** Version of the config the meter enforced; the dispatcher drops its cache if it differs. */
      configVersion: number;
      /** RateLimit-*, X-RateLimit-*, X-Usage-* headers to add to the response. */
      headers: Record<string, string>;
    }
  | {
      ok: false;
      code: RefusalCode;
      status: 404 | 429 | 503;
      message: string;
      configVersion: number;
      headers: Record<string, string>;
      /** For 429s: the Retry-After value in seconds (also in `headers`), for error details and logs. */
      retryAfterSeconds?: number;
    };

/** What `configure` did: `applied` is false for a push older than the stored config (ignored). */
export interface ConfigureResult {
  applied: boolean;
  /** Version in force after the call. */
  version: number;
}

/** One finished call, as the meter stores it for stats (and later for the leaderboard outbox). */
export interface UsageRecord {
  requestId: string;
  ts: number;
  caller: string;
  /** Caller-supplied label (x-caller-id / x-agent-id): recorded, never used for limits. */
  callerLabel?: string;
  status: number;
  latencyMs: number;
  /** admitted and served, or refused before the tenant ran. */
  outcome: "served" | "tenant_error" | "rate_limited" | "quota_exceeded";
}

export interface MeterStats {
  configVersion: number;
  windows: { today: WindowStats; month: WindowStats; total: WindowStats };
}

export interface WindowStats {
  calls: number;
  served: number;
  errors: number;
  refused: number;
  uniqueCallers: number;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
}
