// The funnel's distinct challenges (docs/ARCHITECTURE.md §7): a 402 challenge counts once per
// (API, hour, caller, request fingerprint), so a client that sends its unpaid request again, or a
// bot hammering one URL from one address, adds one challenged request, not one per 402. Each key
// is claimed in the shard's `challenge_seen` inside the ingest transaction (both ingest paths:
// per-event and aggregated batches). Facts without a fingerprint (older producers) are left
// alone: aggregateFacts counts each of their 402s.
//
// Why a digest, keyed by hour: the full key (API, caller, 67-character fingerprint) plus a time
// index cost ~300 bytes per challenged request, so the shard grew ~10× faster than its
// aggregates and ingest slowed as it filled (BENCHMARKS.md). A row is now the event's hour and a
// 96-bit digest of the rest (~30 bytes, no second index); a digest collision in one hour would
// undercount one challenge, and finding one takes ~2^48 tries for random keys, ~2^96 for a given
// victim's key. Keys are needed only while challenges of their hour can still arrive, so they are
// pruned by hour: DEDUPE_RETENTION_MS after the hour ended (dedupe.ts), a range on the key.
import { createHash } from "node:crypto";
import type { UsageFact } from "./events.ts";
import { normalizeCaller } from "./events.ts";
import * as SQL from "./sql.ts";

/** Digest bytes kept per challenge key: 96 bits, 16 base64url characters. */
const DIGEST_BYTES = 12;

/** The stored key of a challenged request within its hour. */
export function challengeDigest(apiId: string, caller: string, fingerprint: string): string {
  const hash = createHash("sha256").update(`${apiId}\u0000${normalizeCaller(caller)}\u0000${fingerprint}`);
  return hash.digest().subarray(0, DIGEST_BYTES).toString("base64url");
}

/** Marks each fingerprinted challenge fact with the distinct challenged requests it adds (0 or 1). */
export function claimChallenges(sql: SqlStorage, facts: readonly UsageFact[]): void {
  const challenged = facts.filter((f) => f.fingerprint !== undefined && f.class.kind === "challenge");
  if (challenged.length === 0) return;
  const keys = challenged.map((f) => [f.hour, challengeDigest(f.apiId, f.caller, f.fingerprint!)] as const);
  const rows = sql.exec<{ hour: number; key: string }>(SQL.CHALLENGE_CLAIM_BATCH, JSON.stringify(keys));
  const claimed = new Set<string>();
  for (const r of rows) claimed.add(`${r.hour}:${r.key}`);
  // delete: a second fact with the same key in this batch adds nothing.
  challenged.forEach((f, i) => {
    const [hour, key] = keys[i]!;
    f.distinct = claimed.delete(`${hour}:${key}`) ? 1 : 0;
  });
}

/**
 * Shards made before the digests keep `challenge_keys` (full keys, by ingest time): its rows move
 * into `challenge_seen` once, so a challenge claimed before the upgrade is not counted again.
 */
export function migrateChallengeKeys(sql: SqlStorage): void {
  const legacy = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'challenge_keys'").toArray();
  if (legacy.length === 0) return;
  const rows = sql.exec<{ api_id: string; hour: number; caller: string; fingerprint: string }>(
    "SELECT api_id, hour, caller, fingerprint FROM challenge_keys",
  );
  const keys = [...rows].map((r) => [r.hour, challengeDigest(r.api_id, r.caller, r.fingerprint)]);
  for (let i = 0; i < keys.length; i += 1000) {
    sql.exec(SQL.CHALLENGE_CLAIM_BATCH, JSON.stringify(keys.slice(i, i + 1000))).toArray();
  }
  sql.exec("DROP TABLE challenge_keys");
}
