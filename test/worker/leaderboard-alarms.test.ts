// Leaderboard alarms: an ingest wakes the shard, the shard starts the rollup coordinator, the
// coordinator rolls up into D1 and keeps itself scheduled; shards prune old dedupe keys.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEDUPE_RETENTION_MS } from "../../objects/leaderboard/dedupe.ts";
import type { Leaderboard } from "../../objects/leaderboard/leaderboard.ts";
import { rollupCoordinator } from "../../objects/leaderboard/shards.ts";
import type { UsageEvent } from "../../objects/shared/usage-event.ts";

const DAY = 86_400_000;

function ev(requestId: string, ts = Date.now()): UsageEvent {
  return {
    requestId,
    ts,
    apiId: "alarm-api",
    owner: "cr_alarm",
    directory: "general",
    caller: "ip:alarm",
    status: 200,
    latencyMs: 10,
    priceAtomic: "0",
    billedAtomic: "0",
    lifecycle: "served",
    countable: true,
    billable: false,
    network: "",
    env: "test",
  };
}

function stub(name: string): DurableObjectStub<Leaderboard> {
  return env.LEADERBOARD.get(env.LEADERBOARD.idFromName(name));
}

const alarmOf = (s: DurableObjectStub<Leaderboard>) =>
  runInDurableObject(s, (_lb: Leaderboard, state) => state.storage.getAlarm());

describe("leaderboard alarms", () => {
  it("an ingest schedules the shard alarm, which starts the coordinator; the coordinator rolls up and stays scheduled", async () => {
    const shard = stub(`alarm-shard-${crypto.randomUUID().slice(0, 8)}`);
    const before = Date.now();
    await shard.ingest([ev(`req_${crypto.randomUUID()}`)]);
    const at = await alarmOf(shard);
    expect(at).not.toBeNull();
    expect(at!).toBeLessThanOrEqual(before + 5_000); // kick soon after the first ingest

    const coordinator = rollupCoordinator(env);
    await runInDurableObject(coordinator, (_lb: Leaderboard, state) => state.storage.deleteAlarm());
    expect(await runDurableObjectAlarm(shard)).toBe(true);
    expect(await alarmOf(coordinator)).not.toBeNull(); // kicked
    expect(await alarmOf(shard)).not.toBeNull(); // the shard keeps an hourly housekeeping alarm

    const versionBefore =
      (await env.DB.prepare("SELECT version FROM leaderboard_meta").first<{ version: number }>())?.version ?? 0;
    await env.DB.prepare("UPDATE leaderboard_meta SET content_hash = 'stale'").run(); // force a write
    expect(await runDurableObjectAlarm(coordinator)).toBe(true);
    const meta = await env.DB.prepare("SELECT version, period_seconds FROM leaderboard_meta").first<{
      version: number;
      period_seconds: number;
    }>();
    expect(meta!.version).toBeGreaterThan(versionBefore);
    expect(meta!.period_seconds).toBe(60);
    const next = await alarmOf(coordinator);
    expect(next).not.toBeNull();
    expect(next! - Date.now()).toBeGreaterThan(50_000);
  });

  it("shard housekeeping prunes dedupe keys older than the retention, keeps fresh ones", async () => {
    const shard = stub(`alarm-prune-${crypto.randomUUID().slice(0, 8)}`);
    await shard.ingest([ev("req_fresh")]);
    await runInDurableObject(shard, (_lb: Leaderboard, state) => {
      state.storage.sql.exec(
        "INSERT INTO seen (api_id, request_id, seen_ms) VALUES ('alarm-api', 'req_old', ?)",
        Date.now() - DEDUPE_RETENTION_MS - DAY,
      );
    });
    expect(DEDUPE_RETENTION_MS).toBeGreaterThanOrEqual(8 * DAY);
    expect(await runDurableObjectAlarm(shard)).toBe(true);
    const keys = await runInDurableObject(shard, (_lb: Leaderboard, state) =>
      state.storage.sql
        .exec<{ request_id: string }>("SELECT request_id FROM seen ORDER BY request_id")
        .toArray()
        .map((r) => r.request_id),
    );
    expect(keys).toEqual(["req_fresh"]);
    expect(await shard.ingest([ev("req_fresh")])).toEqual({ accepted: 0, duplicates: 1, rejected: 0 });
  });
});
