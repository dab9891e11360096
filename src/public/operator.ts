// Operator endpoints of the leaderboard (Authorization: Bearer $OPERATOR_TOKEN):
//   POST /__platform/rollup              force a rollup now (waits for one in progress first)
//                                        → {version, changed, asOf, durationMs, apis, shards}
//   GET  /__platform/events?api&limit    the newest raw call events, newest first, from the raw
//                                        telemetry (docs/ARCHITECTURE.md §14: Analytics Engine in
//                                        production, the local TelemetrySink elsewhere; `source`
//                                        says which), with the leaderboard shards' ingest counters
import type { IRequest } from "itty-router";
import { json } from "../http/json.ts";
import { requireOperator } from "../control/auth.ts";
import type { PlatformContext } from "../control/context.ts";
import {
  leaderboardNamed,
  leaderboardShardFor,
  rollupCoordinator,
  shardCount,
  shardNames,
} from "../../objects/leaderboard/shards.ts";
import { recentTelemetry } from "../telemetry/reader.ts";
import { EVENTS_QUERY, parseQuery } from "./query.ts";
import { forgetSnapshotMeta } from "./snapshot-meta.ts";

export async function forceRollup(request: IRequest, pc: PlatformContext): Promise<Response> {
  await requireOperator(request, pc.env);
  const result = await rollupCoordinator(pc.env).rollup();
  forgetSnapshotMeta(); // this isolate's pages show the new snapshot from the next request on
  return json({ ...result, asOf: new Date(result.asOf).toISOString() });
}

export async function listEvents(request: IRequest, pc: PlatformContext): Promise<Response> {
  await requireOperator(request, pc.env);
  const params = new URL(request.url).searchParams;
  const { api, limit } = parseQuery(params, EVENTS_QUERY);
  const telemetry = await recentTelemetry(pc.env, pc.config, { api, limit });
  const shards = shardCount(pc.env);
  const names = api ? [leaderboardShardFor(api, shards)] : shardNames(shards);
  // The shards' counters only: raw events are the telemetry's (the view no longer reads shard events).
  const counters = await Promise.all(
    names.map(async (shard) => ({
      shard,
      counters: (await leaderboardNamed(pc.env, shard).recentEvents({ limit: 1 })).counters,
    })),
  );
  return json({ ...telemetry, items: telemetry.items.slice(0, limit), shards: counters });
}
