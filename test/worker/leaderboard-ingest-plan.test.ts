// The shard's ingest cost does not grow with the shard (docs/ARCHITECTURE.md §7, §14): every
// statement `ingestBatches` runs is, by SQLite's own EXPLAIN QUERY PLAN, a primary-key or index
// point lookup / upsert driven by the batch (json_each, the batch itself, is the only scan), and
// the dedupe keys are pruned by a range on their time index (challenge keys on their primary
// key's hour), never a table scan. Checked on a
// shard that already holds data, so the planner sees real tables.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Leaderboard } from "../../objects/leaderboard/leaderboard.ts";
import * as SQL from "../../objects/leaderboard/sql.ts";
import { foldUsage } from "../../objects/shared/usage-batch.ts";
import { usageEvent } from "../support/usage-events.ts";

const NOW = Date.UTC(new Date().getUTCFullYear() + 3, 2, 4, 15, 30, 0);

/** Each statement of a batch's ingest with placeholder arguments of the right arity. */
const INGEST: Record<string, [string, unknown[]]> = {
  BATCH_CLAIM: [SQL.BATCH_CLAIM, ["api", "batch", NOW]],
  CHALLENGE_CLAIM_BATCH: [SQL.CHALLENGE_CLAIM_BATCH, ["[]"]],
  API_HOUR_BILLED: [SQL.API_HOUR_BILLED, ["[]"]],
  PAYER_HOUR_BILLED: [SQL.PAYER_HOUR_BILLED, ["[]"]],
  PAYER_TOTAL_BILLED: [SQL.PAYER_TOTAL_BILLED, ["[]"]],
  API_HOURS_UPSERT: [SQL.API_HOURS_UPSERT, ["[]"]],
  API_TRANSPORTS_UPSERT: [SQL.API_TRANSPORTS_UPSERT, ["[]"]],
  PAYER_HOURS_UPSERT: [SQL.PAYER_HOURS_UPSERT, ["[]"]],
  PAYER_TOTALS_UPSERT: [SQL.PAYER_TOTALS_UPSERT, ["[]"]],
  API_META_UPSERT: [SQL.API_META_UPSERT, ["[]"]],
  COUNTER_ADD: [SQL.COUNTER_ADD, ["accepted", "1"]],
};
const PRUNE: Record<string, [string, unknown[]]> = {
  BATCHES_PRUNE: [SQL.BATCHES_PRUNE, [NOW]],
  CHALLENGE_KEYS_PRUNE: [SQL.CHALLENGE_KEYS_PRUNE, [1]],
  SEEN_PRUNE: [SQL.SEEN_PRUNE, [NOW]],
};

/** A point step: a search by primary key or index, or the scan of the batch's json_each. */
const POINT = /^(SEARCH \w+ USING (INTEGER PRIMARY KEY|PRIMARY KEY|(COVERING )?INDEX \w+) \(|SCAN j VIRTUAL TABLE)/;

async function plans(queries: Record<string, [string, unknown[]]>): Promise<Record<string, string[]>> {
  const stub = env.LEADERBOARD.get(env.LEADERBOARD.idFromName(`lb-plan-${crypto.randomUUID()}`));
  const events = Array.from({ length: 200 }, (_, i) =>
    usageEvent({ apiId: "plan-api", ts: NOW - (i % 48) * 3_600_000, caller: `ip:${i % 30}` }),
  );
  await (stub as DurableObjectStub<Leaderboard>).ingestBatches([foldUsage("plan-1", events)]);
  return runInDurableObject(stub, (_i, state) => {
    const out: Record<string, string[]> = {};
    for (const [name, [query, args]] of Object.entries(queries)) {
      const rows = state.storage.sql.exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${query}`, ...args).toArray();
      out[name] = rows.map((r) => r.detail);
    }
    return out;
  });
}

describe("shard ingest statements are point lookups and upserts", () => {
  it("every statement of ingestBatches searches by key; only the batch (json_each) is scanned", async () => {
    const got = await plans(INGEST);
    // The claims and the counter are single-row INSERT … VALUES (no step to plan); every other
    // statement is driven by the batch. An upsert's ON CONFLICT target must be a primary key or
    // unique index (SQLite refuses it otherwise), so its conflict check is a point lookup too.
    expect(
      Object.entries(got)
        .filter(([, steps]) => steps.length === 0)
        .map(([name]) => name),
    ).toEqual(["BATCH_CLAIM", "COUNTER_ADD"]);
    for (const [name, steps] of Object.entries(got)) {
      for (const step of steps) expect(`${name}: ${step}`).toMatch(new RegExp(`^${name}: ${POINT.source.slice(1)}`));
    }
    // The reads of stored money join the batch to the table by its full key.
    const payerHour = /SEARCH p USING PRIMARY KEY \(hour=\? AND api_id=\? AND payer=\?\)/;
    expect(got.PAYER_HOUR_BILLED!.join(" | ")).toMatch(payerHour);
    expect(got.API_HOUR_BILLED!.join(" | ")).toMatch(/SEARCH a USING PRIMARY KEY \(api_id=\? AND hour=\?\)/);
    expect(got.PAYER_TOTAL_BILLED!.join(" | ")).toMatch(/SEARCH t USING PRIMARY KEY \(api_id=\? AND payer=\?\)/);
  });

  it("dedupe keys are pruned by a range on their time index, challenge keys on their hour", async () => {
    const got = await plans(PRUNE);
    expect(got).toEqual({
      BATCHES_PRUNE: [expect.stringMatching(/^SEARCH batches USING (COVERING )?INDEX batches_by_time \(seen_ms<\?\)/)],
      CHALLENGE_KEYS_PRUNE: [expect.stringMatching(/^SEARCH challenge_seen USING PRIMARY KEY \(hour<\?\)/)],
      SEEN_PRUNE: [expect.stringMatching(/^SEARCH seen USING (COVERING )?INDEX seen_by_time \(seen_ms<\?\)/)],
    });
  });
});
