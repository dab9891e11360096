// The funnel's distinct challenges (docs/ARCHITECTURE.md §7): a 402 challenge counts once per
// (API, hour, caller, request fingerprint), so a client that sends its unpaid request again, or a
// bot hammering one URL from one address, adds one challenged request, not one per 402. Each key
// is claimed in the shard's `challenge_keys` inside the ingest transaction (both ingest paths:
// per-event and aggregated batches), and pruned with the dedupe keys (dedupe.ts). Facts without
// a fingerprint (older producers) are left alone: aggregateFacts counts each of their 402s.
import type { UsageFact } from "./events.ts";
import { normalizeCaller } from "./events.ts";
import * as SQL from "./sql.ts";

const SEP = "\u0000";

/** Marks each fingerprinted challenge fact with the distinct challenged requests it adds (0 or 1). */
export function claimChallenges(sql: SqlStorage, facts: readonly UsageFact[], now: number): void {
  const challenged = facts.filter((f) => f.fingerprint !== undefined && f.class.kind === "challenge");
  if (challenged.length === 0) return;
  const keyOf = (k: readonly (string | number)[]) => k.join(SEP);
  const parts = (f: UsageFact) => [f.apiId, f.hour, normalizeCaller(f.caller), f.fingerprint!] as const;
  const rows = sql.exec<{ api_id: string; hour: number; caller: string; fingerprint: string }>(
    SQL.CHALLENGE_CLAIM_BATCH,
    now,
    JSON.stringify(challenged.map(parts)),
  );
  const claimed = new Set<string>();
  for (const r of rows) claimed.add(keyOf([r.api_id, r.hour, r.caller, r.fingerprint]));
  // delete: a second fact with the same key in this batch adds nothing.
  for (const f of challenged) f.distinct = claimed.delete(keyOf(parts(f))) ? 1 : 0;
}
