// Operator endpoints of the leaderboard (Authorization: Bearer $OPERATOR_TOKEN):
//   POST /__platform/rollup              force a rollup now (waits for one in progress first)
//                                        → {version, changed, asOf, durationMs, apis, shards}
//   GET  /__platform/events?api&limit    the newest ingested usage events (raw, deduped), newest
//                                        first, merged across shards (each keeps its last 10,000),
//                                        with per-shard ingest counters
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
import type { UsageEvent } from "../../objects/shared/usage-event.ts";
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
  const shards = shardCount(pc.env);
  const names = api ? [leaderboardShardFor(api, shards)] : shardNames(shards);
  const results = await Promise.all(
    names.map(async (shard) => ({
      shard,
      ...(await leaderboardNamed(pc.env, shard).recentEvents({ limit, ...(api ? { apiId: api } : {}) })),
    })),
  );
  const items: UsageEvent[] = results
    .flatMap((r) => r.items)
    .sort((a, b) => b.ts - a.ts)
    .slice(0, limit);
  return json({ items, shards: results.map((r) => ({ shard: r.shard, counters: r.counters })) });
}
