// Where the operator's raw-event view reads (docs/ARCHITECTURE.md §14): the Analytics Engine SQL API
// when this deployment writes to Analytics Engine (the TELEMETRY binding is present), else the
// local TelemetrySink. Both answer rows of the same columns, decoded by one function (data-point.ts).
import type { PlatformConfig } from "../config/env.ts";
import { ApiError } from "../http/errors.ts";
import { queryEvents } from "./analytics-sql.ts";
import { eventOfRow, type PointRow, type TelemetryEvent } from "./data-point.ts";
import { droppedLocal, localSink } from "./local-sink.ts";

export type TelemetrySource = "analytics_engine" | "local";

export interface RecentTelemetry {
  source: TelemetrySource;
  items: TelemetryEvent[];
  /** Rows of the source this format could not read (another writer, an older layout). */
  skipped: number;
  /** local only: points this isolate dropped because its buffer or the sink failed. */
  dropped?: number;
  /** analytics_engine only: some rows stand for more than one call (`_sample_interval` > 1). */
  sampled?: boolean;
}

export function telemetrySource(env: Env): TelemetrySource {
  return env.TELEMETRY ? "analytics_engine" : "local";
}

export async function recentTelemetry(
  env: Env,
  config: PlatformConfig,
  query: { api: string | null; limit: number },
  fetcher: typeof fetch = fetch,
): Promise<RecentTelemetry> {
  const source = telemetrySource(env);
  if (source === "local") {
    const sink = localSink(env);
    if (!sink)
      throw new ApiError(503, "telemetry_unavailable", "this deployment binds neither TELEMETRY nor TELEMETRY_SINK");
    const rows = await sink.recent({ limit: query.limit, ...(query.api ? { index: query.api } : {}) });
    return { source, ...decode(rows), dropped: droppedLocal() };
  }
  const { accountId, apiToken, apiBase } = config.cloudflare;
  if (!accountId || !apiToken) {
    throw new ApiError(
      503,
      "telemetry_unavailable",
      "raw events are in Analytics Engine, but CF_ACCOUNT_ID or CF_API_TOKEN is not set to read them",
    );
  }
  const rows = await queryEvents({ apiBase, accountId, token: apiToken }, query, fetcher);
  const sampled = rows.some((r) => typeof r._sample_interval === "number" && r._sample_interval > 1);
  return { source, ...decode(rows), sampled };
}

function decode(rows: PointRow[]): { items: TelemetryEvent[]; skipped: number } {
  const items: TelemetryEvent[] = [];
  for (const row of rows) {
    const event = eventOfRow(row);
    if (event) items.push(event);
  }
  items.sort((a, b) => b.ts - a.ts);
  return { items, skipped: rows.length - items.length };
}
