// What /apis/:slug shows: the API's snapshot detail (the same read as GET /v1/apis/:slug) and,
// for the charts, its newest usage events from its Leaderboard shard, folded per hour.
import type { ApiDetail } from "../../../objects/leaderboard/snapshot-types.ts";
import type { WindowName } from "../../../objects/leaderboard/windows.ts";
import { leaderboardFor } from "../../../objects/leaderboard/shards.ts";
import type { UsageEvent } from "../../../objects/shared/usage-event.ts";
import { readApi, type SnapshotMeta } from "../../../objects/leaderboard/snapshot-store.ts";
import { hourlySeries, type HourlySeries } from "../charts/series.ts";
import { linkedWalletsOf } from "../linked-wallets.ts";
import { cachedDescription } from "../../discovery/bazaar.ts";
import { pricedPerOperation } from "../../discovery/openapi.ts";
import { loadTenantBySlug } from "../../tenancy/tenant-store.ts";

/** Events read per chart: bounded, so one page view is one bounded RPC. */
export const CHART_EVENTS = 1000;

export function chartHours(window: WindowName, now: number): number {
  if (window === "today") return Math.floor((now % 86_400_000) / 3_600_000) + 1;
  return 168;
}

export async function recentApiEvents(env: Env, slug: string): Promise<UsageEvent[]> {
  try {
    return (await leaderboardFor(env, slug).recentEvents({ apiId: slug, limit: CHART_EVENTS })).items;
  } catch (err) {
    // The charts are an extra: the page still renders its snapshot numbers without them.
    console.warn(`web: recent events of ${slug} unavailable`, err);
    return [];
  }
}

export interface ApiPageData {
  meta: SnapshotMeta | null;
  api: ApiDetail | null;
  series: HourlySeries;
  /** "GET /v1/search" → "$0.001" / "free", from the live config (a price change shows at once); null: one price. */
  prices: { operation: string; price: string }[] | null;
}

/** The live per-operation prices, read from the stored config rather than the (periodic) snapshot. */
export async function livePrices(db: D1Database, slug: string): Promise<ApiPageData["prices"]> {
  const row = await loadTenantBySlug(db, slug);
  if (!row || row.deletedAt !== null) return null;
  const d = cachedDescription(row.config);
  if (!pricedPerOperation(d)) return null;
  return d.operations.map((op) => ({ operation: `${op.method} ${op.path}`, price: op.price?.display ?? "free" }));
}

export async function readApiPage(env: Env, slug: string, window: WindowName, now: number): Promise<ApiPageData> {
  const [{ meta, api }, events, linked, prices] = await Promise.all([
    readApi(env.DB, slug),
    recentApiEvents(env, slug),
    linkedWalletsOf(env.DB, slug),
    livePrices(env.DB, slug),
  ]);
  const series = hourlySeries(events, now, chartHours(window, now), (c) => linked.has(c.toLowerCase()), CHART_EVENTS);
  return { meta, api, series, prices };
}
