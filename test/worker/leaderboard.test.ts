// The Leaderboard DO in workerd: ingest (validation, dedupe, atomic batches), per-window export, restarts, shards.
// Each test uses its own instance name, so tests never see each other's payers.

import { abortAllDurableObjects, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Leaderboard } from "../../objects/leaderboard/leaderboard.ts";
import { leaderboardShardFor } from "../../objects/leaderboard/shards.ts";
import { buildSnapshot } from "../../objects/leaderboard/snapshot.ts";
import { linkedPairs } from "../../objects/leaderboard/snapshot-merge.ts";
import type { UsageEvent } from "../../objects/shared/usage-event.ts";
import { windowRanges } from "../../objects/leaderboard/windows.ts";
import { DAY, HOUR, MIN, NOW, addr, api, catalog, entry, ev, instance, snapshotOf } from "../support/leaderboard.ts";

describe("ingest", () => {
  it("validates each event: bad ones are rejected, never thrown; good ones accepted", async () => {
    const { stub } = instance();
    const good = ev("val-api", addr("v", 1), NOW);
    const result = await stub.ingest([
      good,
      { ...good, requestId: "" },
      { nope: true },
      null,
      "x",
      { ...ev("val-api", addr("v", 2), NOW), lifecycle: "teleported" },
      { ...ev("val-api", addr("v", 3), NOW), billedAtomic: "1.5" },
    ]);
    expect(result).toEqual({ accepted: 1, duplicates: 0, rejected: 6 });
  });

  it("refuses a non-array and an oversized batch as a whole", async () => {
    const { stub } = instance();
    const many = Array.from({ length: 1001 }, (_, i) => ev("big-api", addr("b", i), NOW));
    // Called inside the object: a throwing RPC would also surface as an unhandled rejection there.
    const thrown = await runInDurableObject(stub, (lb: Leaderboard) =>
      [() => lb.ingest("nope" as unknown as unknown[]), () => lb.ingest(many)].map((f) => {
        try {
          f();
          return "";
        } catch (err) {
          return String(err);
        }
      }),
    );
    expect(thrown[0]).toMatch(/TypeError: .*array/);
    expect(thrown[1]).toMatch(/RangeError: .*at most 1000/);
    expect(await stub.ingest(many.slice(0, 1000))).toEqual({ accepted: 1000, duplicates: 0, rejected: 0 });
  });

  it("duplicate requestIds count once, within a batch and across deliveries; the same id on another API is another event", async () => {
    const { stub } = instance();
    const a = ev("dup-api", addr("d", 1), NOW - MIN);
    const b = ev("dup-api", addr("d", 2), NOW - MIN);
    expect(await stub.ingest([a, a, b])).toEqual({ accepted: 2, duplicates: 1, rejected: 0 });
    expect(await stub.ingest([a, b, a])).toEqual({ accepted: 0, duplicates: 3, rejected: 0 });
    expect(await stub.ingest([{ ...a, apiId: "dup-other" }])).toEqual({ accepted: 1, duplicates: 0, rejected: 0 });
    const snap = await snapshotOf(stub, catalog([api("dup-api"), api("dup-other")]));
    expect(entry(snap, "today", "dup-api").metrics.calls).toBe(2);
    expect(entry(snap, "today", "dup-api").metrics.revenueAtomic).toBe("2000");
    expect(entry(snap, "today", "dup-other").metrics.calls).toBe(1);
  });

  it("records raw events for operators with ingest counters", async () => {
    const { stub } = instance();
    const e = ev("raw-api", addr("r", 1), NOW);
    await stub.ingest([e, e, { bad: 1 }]);
    const recent = await stub.recentEvents({ limit: 10 });
    expect(recent.items).toEqual([e]);
    expect(recent.counters).toEqual({ accepted: 1, duplicates: 1, rejected: 1 });
  });
});

describe("windows", () => {
  it("events at now-1h, now-2d and now-9d count 1 / 2 / 3 in today / week / overall", async () => {
    const { stub } = instance();
    const p = addr("w", 1);
    await stub.ingest([ev("win-api", p, NOW - HOUR), ev("win-api", p, NOW - 2 * DAY), ev("win-api", p, NOW - 9 * DAY)]);
    const snap = await snapshotOf(stub, catalog([api("win-api")]));
    expect(entry(snap, "today", "win-api").metrics.calls).toBe(1);
    expect(entry(snap, "week", "win-api").metrics.calls).toBe(2);
    expect(entry(snap, "overall", "win-api").metrics.calls).toBe(3);
    expect(entry(snap, "overall", "win-api").metrics.revenueAtomic).toBe("3000");
  });
});

describe("restarts", () => {
  async function restartScenario(kill: (stub: DurableObjectStub<Leaderboard>) => Promise<void>): Promise<void> {
    const name = `lb-restart-${crypto.randomUUID().slice(0, 8)}`;
    const stubOf = () => env.LEADERBOARD.get(env.LEADERBOARD.idFromName(name));
    const batches = Array.from({ length: 30 }, (_, b) =>
      Array.from({ length: 200 }, (_, i) =>
        ev("restart-api", addr("rs", (b * 200 + i) % 300), NOW - ((b * 200 + i) % 72) * HOUR),
      ),
    );
    // The producer: deliver every batch, retrying failures until the object accepts it.
    const deliver = async (batch: UsageEvent[]): Promise<{ accepted: number; duplicates: number }> => {
      const accepted = 0;
      const duplicates = 0;
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          const r = await stubOf().ingest(batch);
          return { accepted: accepted + r.accepted, duplicates: duplicates + r.duplicates };
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      throw new Error("batch never delivered");
    };
    await stubOf().ingest([]); // the object exists before it is killed
    const inFlight = batches.map((b) => deliver(b));
    await new Promise((r) => setTimeout(r, 5));
    await kill(stubOf());
    const first = await Promise.all(inFlight);
    // At-least-once: the outbox may redeliver everything after a crash.
    const again = await Promise.all(batches.map((b) => deliver(b)));
    expect(first.reduce((t, r) => t + r.accepted, 0)).toBe(6000);
    expect(again.reduce((t, r) => t + r.accepted, 0)).toBe(0);
    expect(again.reduce((t, r) => t + r.duplicates, 0)).toBe(6000);
    const snap = await snapshotOf(stubOf(), catalog([api("restart-api")]));
    expect(entry(snap, "overall", "restart-api").metrics.calls).toBe(6000);
    expect(entry(snap, "overall", "restart-api").metrics.revenueAtomic).toBe("6000000");
    expect(entry(snap, "overall", "restart-api").metrics.payers).toBe(300);
  }

  it("aborted mid-ingest (abortAllDurableObjects): no event lost or doubled", async () => {
    await restartScenario(() => abortAllDurableObjects());
  });

  it("evicted mid-ingest (evictDurableObject): no event lost or doubled", async () => {
    await restartScenario((stub) => evictDurableObject(stub));
  });
});

describe("shards", () => {
  it("leaderboardShardFor is stable and spreads APIs over the shards", () => {
    expect(leaderboardShardFor("weather", 1)).toBe("shard-0");
    expect(leaderboardShardFor("weather", 8)).toBe(leaderboardShardFor("weather", 8));
    const used = new Set(Array.from({ length: 200 }, (_, i) => leaderboardShardFor(`api-${i}`, 8)));
    expect(used.size).toBe(8);
    expect(leaderboardShardFor("x", 0)).toBe("shard-0");
  });

  it("the rollup merges shards: an API's events split over two shards add up", async () => {
    const a = instance();
    const b = instance();
    const p = [addr("split", 1), addr("split", 2), addr("split", 3)];
    await a.stub.ingest(p.map((x) => ev("split-api", x, NOW - HOUR)));
    await b.stub.ingest(p.map((x) => ev("split-api", x, NOW - 2 * HOUR)));
    const cat = catalog([api("split-api")]);
    const ranges = windowRanges(NOW);
    const linked = JSON.stringify(linkedPairs(cat));
    const exports = await Promise.all([
      a.stub.exportWindows({ shard: a.name, ranges, linked }),
      b.stub.exportWindows({ shard: b.name, ranges, linked }),
    ]);
    const snap = buildSnapshot(cat, exports, NOW);
    const e = entry(snap, "today", "split-api");
    expect(e.metrics.calls).toBe(6);
    expect(e.metrics.payers).toBe(3);
    expect(e.metrics.revenueAtomic).toBe("6000");
  });
});
