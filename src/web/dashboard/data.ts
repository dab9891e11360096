// Everything the dashboard shows for a signed-in creator: their APIs with exact ledger revenue,
// and for the selected API its snapshot numbers (as GET /v1/apis/:slug), the meter's live stats
// and spend (the TenantMeter RPCs GET /v1/tenants/:slug uses), the ledger view, the newest usage
// events (errors by code, hourly chart) and the creator-linked wallets.
import type { ApiDetail } from "../../../objects/leaderboard/snapshot-types.ts";
import type { MeterStats, SpendInfo } from "../../../objects/meter/types.ts";
import type { WindowName } from "../../../objects/leaderboard/windows.ts";
import { utcDayStartMs } from "../../../objects/shared/time.ts";
import { atomicToUsd } from "../../../objects/shared/money.ts";
import type { TenantConfig } from "../../config/tenant-config.ts";
import { assetFor } from "../../config/assets.ts";
import { listTenantsByOwner } from "../../tenancy/tenant-store.ts";
import { meterFor } from "../../tenancy/meter-config.ts";
import { readApi } from "../../../objects/leaderboard/snapshot-store.ts";
import { CHART_EVENTS, chartHours, recentApiEvents } from "../api/data.ts";
import { errorsByCode, hourlySeries, type CodeCount, type HourlySeries } from "../charts/series.ts";
import { linkedWalletsOf } from "../linked-wallets.ts";
import { ledgerTotals, readLedgerView, type LedgerView } from "./ledger.ts";
import { limitRows, type LimitRow } from "./limits.ts";

export interface ApiSummary {
  slug: string;
  config: TenantConfig;
  payments: number;
  revenueUsd: string;
  revenueAtomic: string;
}

export interface SelectedApi {
  config: TenantConfig;
  snapshot: ApiDetail | null;
  stats: MeterStats | null;
  spend: SpendInfo | null;
  ledger: LedgerView;
  errors: CodeCount[];
  series: HourlySeries;
  linked: Set<string>;
  limits: LimitRow[];
}

export interface DashboardData {
  apis: ApiSummary[];
  selected: SelectedApi | null;
}

export function decimalsOf(config: TenantConfig): number {
  return assetFor(config.network, config.asset)?.decimals ?? 6;
}

async function meterReads(
  env: Env,
  slug: string,
  now: number,
): Promise<{ stats: MeterStats | null; spend: SpendInfo | null }> {
  try {
    const meter = meterFor(env, slug);
    const [stats, spend] = await Promise.all([meter.stats(now), meter.spend(now)]);
    return { stats, spend };
  } catch (err) {
    console.warn(`web: meter of ${slug} unavailable`, err);
    return { stats: null, spend: null };
  }
}

export async function readSelected(
  env: Env,
  config: TenantConfig,
  window: WindowName,
  now: number,
): Promise<SelectedApi> {
  const decimals = decimalsOf(config);
  const [{ api }, meter, ledger, events, linked] = await Promise.all([
    readApi(env.DB, config.slug),
    meterReads(env, config.slug, now),
    readLedgerView(env.DB, config.slug, decimals, utcDayStartMs(now)),
    recentApiEvents(env, config.slug),
    linkedWalletsOf(env.DB, config.slug),
  ]);
  return {
    config,
    snapshot: api,
    ...meter,
    ledger,
    errors: errorsByCode(events),
    series: hourlySeries(events, now, chartHours(window, now), (c) => linked.has(c.toLowerCase()), CHART_EVENTS),
    linked,
    limits: limitRows(config, decimals, meter.stats?.windows ?? null, meter.spend, ledger.maxPayerToday),
  };
}

export async function readDashboard(
  env: Env,
  creatorId: string,
  selectedSlug: string | null,
  window: WindowName,
  now: number,
): Promise<DashboardData> {
  const tenants = await listTenantsByOwner(env.DB, creatorId);
  const totals = await ledgerTotals(
    env.DB,
    tenants.map((t) => t.slug),
  );
  const apis = tenants.map((t) => {
    const total = totals.get(t.slug) ?? { payments: 0, amount: 0n };
    return {
      slug: t.slug,
      config: t.config,
      payments: total.payments,
      revenueAtomic: total.amount.toString(),
      revenueUsd: atomicToUsd(total.amount, decimalsOf(t.config)),
    };
  });
  const chosen = tenants.find((t) => t.slug === selectedSlug) ?? tenants[0];
  return { apis, selected: chosen ? await readSelected(env, chosen.config, window, now) : null };
}
