// Hourly series for the charts of the API page and the dashboard (docs/ARCHITECTURE.md §13),
// folded from an API's newest usage events (the Leaderboard shard keeps its last 10,000; the
// page asks for up to 1,000 of one API). Pure: events and "now" in, numbers out.
//
// What counts is the leaderboard's rule (objects/shared/outcomes.ts): countable = settled paid
// calls and served free calls; failures = tenant_error and settlement_failed; latency is of
// attempts (countable + failures). Creator-linked callers are counted apart as self-dealt.
import { emptyHist, estimatePercentile, latencyBucket } from "../../../objects/shared/histogram.ts";
import { OUTCOME_TRAITS, type Outcome } from "../../../objects/shared/outcomes.ts";
import type { UsageEvent } from "../../../objects/shared/usage-event.ts";

const HOUR_MS = 3_600_000;

export interface HourPoint {
  /** Start of the hour, ms. */
  hour: number;
  organic: number;
  selfDealt: number;
  failures: number;
  p95Ms: number | null;
}

export interface HourlySeries {
  points: HourPoint[];
  /** Events older than the first hour of the series, or beyond the newest `limit`, are not in it. */
  eventsUsed: number;
  /** Time of the oldest event read (the series is complete only after it). */
  oldestEventMs: number | null;
  /** True when the read hit its limit: hours before oldestEventMs may be missing calls. */
  truncated: boolean;
}

type EventLike = Pick<UsageEvent, "ts" | "caller" | "lifecycle" | "countable" | "latencyMs">;

export function hourlySeries(
  events: readonly EventLike[],
  now: number,
  hours: number,
  isLinked: (caller: string) => boolean,
  limit: number,
): HourlySeries {
  const firstHour = Math.floor(now / HOUR_MS) - hours + 1;
  const points: HourPoint[] = [];
  const hists: number[][] = [];
  for (let i = 0; i < hours; i++) {
    points.push({ hour: (firstHour + i) * HOUR_MS, organic: 0, selfDealt: 0, failures: 0, p95Ms: null });
    hists.push(emptyHist());
  }
  let used = 0;
  let oldest: number | null = null;
  for (const e of events) {
    oldest = oldest === null ? e.ts : Math.min(oldest, e.ts);
    const i = Math.floor(e.ts / HOUR_MS) - firstHour;
    const point = points[i];
    const hist = hists[i];
    if (!point || !hist) continue;
    used += 1;
    const rank = OUTCOME_TRAITS[e.lifecycle].rank;
    const countable = rank === "countable" && e.countable;
    if (countable && isLinked(e.caller)) point.selfDealt += 1;
    else if (countable) point.organic += 1;
    else if (rank === "failure") point.failures += 1;
    if (countable || rank === "failure") hist[latencyBucket(e.latencyMs)]! += 1;
  }
  points.forEach((p, i) => (p.p95Ms = estimatePercentile(hists[i]!, 0.95)));
  return { points, eventsUsed: used, oldestEventMs: oldest, truncated: events.length >= limit };
}

/**
 * Uptime over the series: of the hours in which the API was tried (a countable call or a
 * failure), the share in which it served at least one call. Null when it was never tried.
 */
export function uptime(points: readonly HourPoint[]): number | null {
  const tried = points.filter((p) => p.organic + p.selfDealt + p.failures > 0);
  if (tried.length === 0) return null;
  return tried.filter((p) => p.organic + p.selfDealt > 0).length / tried.length;
}

export interface CodeCount {
  code: Outcome;
  status: number;
  count: number;
}

/** Failures and refusals, grouped by (outcome, HTTP status), most first. */
export function errorsByCode(events: readonly Pick<UsageEvent, "lifecycle" | "status">[]): CodeCount[] {
  const counts = new Map<string, CodeCount>();
  for (const e of events) {
    // Served, settled and replayed calls are not errors; 402 challenges are the funnel's first step.
    if (
      e.lifecycle === "served" ||
      e.lifecycle === "payment_settled" ||
      e.lifecycle === "payment_replayed" ||
      e.lifecycle === "payment_challenged"
    )
      continue;
    const key = `${e.lifecycle}|${e.status}`;
    const c = counts.get(key) ?? { code: e.lifecycle, status: e.status, count: 0 };
    c.count += 1;
    counts.set(key, c);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1));
}
