// "How close" for the dashboard: each configured limit next to what is used of it now. Pure.
import type { TenantConfig } from "../../config/tenant-config.ts";
import type { SpendInfo, WindowStats } from "../../../objects/meter/types.ts";
import { atomicToUsd, usdToAtomic } from "../../../objects/shared/money.ts";

export interface LimitRow {
  name: string;
  limit: string;
  used: string;
  /** used / limit in 0..1 (capped), null when a ratio does not apply (token buckets). */
  ratio: number | null;
}

function ratio(used: bigint, limit: bigint): number {
  if (limit <= 0n) return used > 0n ? 1 : 0;
  const r = Number((used * 10_000n) / limit) / 10_000;
  return Math.min(1, r);
}

export function limitRows(
  config: TenantConfig,
  decimals: number,
  stats: { today: WindowStats; month: WindowStats } | null,
  spend: SpendInfo | null,
  maxPayerToday: string,
): LimitRow[] {
  const rows: LimitRow[] = [];
  const bucket = (label: string, r: { requests: number; windowSeconds: number; burst?: number } | undefined) => {
    if (r)
      rows.push({
        name: label,
        limit: `${r.requests} per ${r.windowSeconds} s${r.burst ? ` (burst ${r.burst})` : ""}`,
        used: "refilled continuously",
        ratio: null,
      });
  };
  bucket("Rate limit per caller", config.rateLimit?.perCaller);
  bucket("Rate limit, all callers", config.rateLimit?.global);
  const quota = (label: string, limit: number | undefined, w: WindowStats | undefined) => {
    if (limit === undefined) return;
    const used = w ? Math.max(0, w.calls - w.refused) : 0;
    rows.push({ name: label, limit: `${limit} calls`, used: `${used} calls`, ratio: Math.min(1, used / limit) });
  };
  quota("Daily quota", config.usageLimit?.dailyRequests, stats?.today);
  quota("Monthly quota", config.usageLimit?.monthlyRequests, stats?.month);
  const cap = (label: string, usd: number | undefined, used: bigint) => {
    if (usd === undefined) return;
    const limit = usdToAtomic(usd, decimals);
    rows.push({
      name: label,
      limit: atomicToUsd(limit, decimals),
      used: atomicToUsd(used, decimals),
      ratio: ratio(used, limit),
    });
  };
  const spent = (w: { settled: string; reserved: string } | undefined) =>
    w ? BigInt(w.settled) + BigInt(w.reserved) : 0n;
  cap("Spend cap, today", config.spendLimit?.dailyUsd, spent(spend?.daily));
  cap("Spend cap, this month", config.spendLimit?.monthlyUsd, spent(spend?.monthly));
  cap("Per-payer cap, today (busiest payer)", config.spendLimit?.perPayerDailyUsd, BigInt(maxPayerToday));
  return rows;
}
