// Which Leaderboard instance holds an API, and stubs to reach them (docs/ARCHITECTURE.md §7).
// Events of one API always go to the same shard (dedupe by (apiId, requestId) is per shard),
// chosen by a stable hash of the apiId: `shard-<n>`, n < LEADERBOARD_SHARDS (default 1). The
// rollup coordinator is a separate instance named `rollup`: its alarm merges all shards into the
// D1 snapshot, so ingest never waits behind a rollup.
//
// Changing LEADERBOARD_SHARDS moves APIs between shards. Only raise it, and only once the
// producers' outboxes are drained: an event redelivered to its new shard would not be deduped
// against the old one. The rollup reads shards 0..N-1, so lowering it hides data.
//
// The stubs are typed by the LEADERBOARD binding of Env (the class exported by src/index.ts), so
// this file does not import the Durable Object that imports it.

/** A stub of one Leaderboard instance (shard or coordinator). */
export type LeaderboardStub = ReturnType<Env["LEADERBOARD"]["get"]>;

export const ROLLUP_INSTANCE = "rollup";
export const MAX_SHARDS = 64;

/** FNV-1a (32 bit) of the UTF-16 code units: stable across isolates, releases and runtimes. */
export function stableHash(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function leaderboardShardFor(apiId: string, shards: number): string {
  const n = Math.min(MAX_SHARDS, Math.max(1, Math.floor(shards) || 1));
  return `shard-${stableHash(apiId) % n}`;
}

export function shardCount(env: { LEADERBOARD_SHARDS?: string }): number {
  const n = Math.floor(Number(env.LEADERBOARD_SHARDS));
  return Number.isFinite(n) && n >= 1 ? Math.min(MAX_SHARDS, n) : 1;
}

export function shardNames(shards: number): string[] {
  return Array.from({ length: shards }, (_, i) => `shard-${i}`);
}

export function leaderboardNamed(env: Env, name: string): LeaderboardStub {
  return env.LEADERBOARD.get(env.LEADERBOARD.idFromName(name));
}

/** The shard that ingests `apiId`'s events (typed stub: `await leaderboardFor(env, id).ingest(events)`). */
export function leaderboardFor(env: Env, apiId: string): LeaderboardStub {
  return leaderboardNamed(env, leaderboardShardFor(apiId, shardCount(env)));
}

export function rollupCoordinator(env: Env): LeaderboardStub {
  return leaderboardNamed(env, ROLLUP_INSTANCE);
}

export function rollupPeriodSeconds(env: { ROLLUP_PERIOD_SECONDS?: string }): number {
  const n = Math.floor(Number(env.ROLLUP_PERIOD_SECONDS));
  return Number.isFinite(n) && n >= 1 ? Math.min(n, 86_400) : 60;
}
