// The coordinator's rollup (docs/ARCHITECTURE.md §7): read the catalog from D1 (published APIs,
// creator-linked wallets), pull every shard's export by RPC, score (snapshot.ts) and write the
// snapshot into D1 in one batch (snapshot-store.ts; an unchanged snapshot writes nothing). The
// Durable Object decides when (its alarm, or a forced rollup) and that rollups never overlap.
import { loadCatalog } from "./catalog.ts";
import { leaderboardNamed, rollupPeriodSeconds, shardCount, shardNames } from "./shards.ts";
import { linkedPairs } from "./snapshot-merge.ts";
import { writeSnapshot } from "./snapshot-store.ts";
import type { ShardExport } from "./snapshot-types.ts";
import { buildSnapshot } from "./snapshot.ts";
import { windowRanges } from "./windows.ts";

export interface RollupResult {
  version: number;
  changed: boolean;
  asOf: number;
  durationMs: number;
  apis: number;
  shards: number;
}

export async function runRollup(env: Env, now: number): Promise<RollupResult> {
  const started = Date.now();
  const catalog = await loadCatalog(env.DB);
  const request = { ranges: windowRanges(now), linked: JSON.stringify(linkedPairs(catalog)) };
  const names = shardNames(shardCount(env));
  const exports = (await Promise.all(
    names.map((shard) => leaderboardNamed(env, shard).exportWindows({ ...request, shard })),
  )) as ShardExport[];
  const snapshot = buildSnapshot(catalog, exports, now);
  const written = await writeSnapshot(env.DB, snapshot, now, rollupPeriodSeconds(env));
  return {
    version: written.version,
    changed: written.changed,
    asOf: now,
    durationMs: Date.now() - started,
    apis: catalog.apis.length,
    shards: names.length,
  };
}
