// The Leaderboard Durable Object end to end inside workerd: ingest (validation, dedupe,
// atomic batches), the per-window export, and the anti-gaming scenarios of issue #4 scored from
// what the DO really stored (exportWindows → buildSnapshot with a hand-made catalog).
//
// Each test uses its own instance name (the class does not care which name a shard has), so
// tests never see each other's payers. Time: events are stamped around NOW, a fixed noon three
// years ahead; the DO's own clock (dedupe retention, alarms) is the real one.
import { abortAllDurableObjects, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Leaderboard } from "../../objects/leaderboard/leaderboard.ts";
import { leaderboardShardFor } from "../../objects/leaderboard/shards.ts";
import { buildSnapshot } from "../../objects/leaderboard/snapshot.ts";
import { linkedPairs } from "../../objects/leaderboard/snapshot-merge.ts";
import type { Catalog, CatalogApi, LeaderboardEntry, Snapshot } from "../../objects/leaderboard/snapshot-types.ts";
import type { UsageEvent } from "../../objects/shared/usage-event.ts";
import { windowRanges, type WindowName } from "../../objects/leaderboard/windows.ts";
import { usageEvent } from "../support/usage-events.ts";

const YEAR = new Date().getUTCFullYear() + 3;
const NOW = Date.UTC(YEAR, 5, 10, 12, 0, 0);
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let counter = 0;
function instance(): { name: string; stub: DurableObjectStub<Leaderboard> } {
  const name = `lb-test-${++counter}-${crypto.randomUUID().slice(0, 8)}`;
  return { name, stub: env.LEADERBOARD.get(env.LEADERBOARD.idFromName(name)) };
}

function addr(tag: string, i: number): string {
  const hex = [...`${tag}-${i}`].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
  return `0x${hex.padEnd(40, "0").slice(0, 40)}`;
}

function ev(apiId: string, caller: string, ts: number, over: Partial<UsageEvent> = {}): UsageEvent {
  return usageEvent({ apiId, owner: `cr_${apiId}`, caller, ts, ...over });
}

async function ingestAll(
  stub: DurableObjectStub<Leaderboard>,
  events: UsageEvent[],
): Promise<{ accepted: number; duplicates: number; rejected: number }> {
  const total = { accepted: 0, duplicates: 0, rejected: 0 };
  for (let i = 0; i < events.length; i += 1000) {
    const r = await stub.ingest(events.slice(i, i + 1000));
    total.accepted += r.accepted;
    total.duplicates += r.duplicates;
    total.rejected += r.rejected;
  }
  return total;
}

function api(slug: string, over: Partial<CatalogApi> = {}): CatalogApi {
  return {
    slug,
    owner: `cr_${slug}`,
    directory: "general",
    description: `${slug} test API`,
    resourceType: "dataset",
    paid: true,
    priceAtomic: "1000",
    decimals: 6,
    network: "eip155:84532",
    payTo: null,
    hosts: [],
    accepts: [],
    updatedAt: NOW - DAY,
    ...over,
  };
}

function catalog(apis: CatalogApi[], linked: Record<string, string[]> = {}): Catalog {
  const linkedByOwner = new Map<string, Set<string>>();
  for (const a of apis)
    if (a.payTo) linkedByOwner.set(a.owner, new Set([...(linkedByOwner.get(a.owner) ?? []), a.payTo]));
  for (const [owner, list] of Object.entries(linked))
    linkedByOwner.set(owner, new Set([...(linkedByOwner.get(owner) ?? []), ...list.map((a) => a.toLowerCase())]));
  return { apis, linkedByOwner, ownerBySlug: new Map(apis.map((a) => [a.slug, a.owner])) };
}

async function snapshotOf(stub: DurableObjectStub<Leaderboard>, cat: Catalog, now = NOW): Promise<Snapshot> {
  const ex = await stub.exportWindows({
    shard: "test",
    ranges: windowRanges(now),
    linked: JSON.stringify(linkedPairs(cat)),
  });
  return buildSnapshot(cat, [ex], now);
}

function entry(snap: Snapshot, window: WindowName, slug: string): LeaderboardEntry {
  const e = snap.windows[window].entries.find((x) => x.slug === slug);
  if (!e) throw new Error(`${slug} not in ${window}`);
  return e;
}

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

describe("anti-gaming scenarios through the DO", () => {
  it("a self-dealing creator (payTo pays itself) scores 0 however many calls it makes", {
    timeout: 120_000,
  }, async () => {
    const { stub } = instance();
    const payTo = addr("self", 0);
    const CALLS = 1_000_000;
    const started = Date.now();
    let accepted = 0;
    for (let b = 0; b < CALLS; b += 1000) {
      // Ordered request ids keep the dedupe index append-only, so a million calls ingest in
      // seconds (random ids cost a b-tree page per key: ingest throughput is a benchmark matter).
      const batch = Array.from({ length: 1000 }, (_, k) =>
        ev("self-api", payTo, NOW - ((b + k) % 100) * MIN, { requestId: `req_self_${String(b + k).padStart(7, "0")}` }),
      );
      accepted += (await stub.ingest(batch)).accepted;
    }
    expect(accepted).toBe(CALLS);
    console.log(`ingested ${CALLS} events in ${Date.now() - started} ms`);
    // 3 honest payers on an honest API for comparison
    await stub.ingest(Array.from({ length: 3 }, (_, i) => ev("honest-api", addr("honest", i), NOW - HOUR)));
    const snap = await snapshotOf(stub, catalog([api("self-api", { payTo }), api("honest-api")]));
    const self = entry(snap, "overall", "self-api");
    expect(self.score).toBe(0);
    expect(self.status).toBe("emerging");
    expect(self.metrics.calls).toBe(0);
    expect(self.metrics.selfDealtCalls).toBe(CALLS);
    expect(self.metrics.revenueAtomic).toBe("0");
    expect(snap.windows.overall.stats.calls).toBe(3);
    expect(entry(snap, "overall", "honest-api").score).toBeGreaterThan(0);
  });

  it("wallets a creator registered weigh zero like its payTo, on every API of that creator", async () => {
    const { stub } = instance();
    const own = [addr("own", 1), addr("own", 2), addr("own", 3)];
    const real = [addr("fan", 1), addr("fan", 2), addr("fan", 3)];
    const events = [...own, ...real].flatMap((p) =>
      Array.from({ length: 5 }, (_, i) => ev("linked-api", p, NOW - i * HOUR)),
    );
    await stub.ingest(events);
    const without = await snapshotOf(stub, catalog([api("linked-api")]));
    const withWallets = await snapshotOf(stub, catalog([api("linked-api")], { "cr_linked-api": own }));
    expect(entry(without, "week", "linked-api").metrics.payers).toBe(6);
    const linked = entry(withWallets, "week", "linked-api");
    expect(linked.metrics.payers).toBe(3);
    expect(linked.metrics.selfDealtCalls).toBe(15);
    expect(linked.score).toBeLessThan(entry(without, "week", "linked-api").score);
  });

  it("100 fresh wallets × 1 call rank below 50 established payers × 10 calls", async () => {
    const { stub } = instance();
    const sybils = Array.from({ length: 100 }, (_, i) => ev("sybil-api", addr("sybil", i), NOW - 30 * MIN));
    // Established payers: paying for days (first seen 5 days ago), and only ever this creator too.
    const real = Array.from({ length: 50 }, (_, p) =>
      Array.from({ length: 10 }, (_, k) => ev("real-api", addr("real", p), NOW - (k * 12 + (p % 12)) * HOUR)),
    ).flat();
    await ingestAll(stub, [...sybils, ...real]);
    const snap = await snapshotOf(stub, catalog([api("sybil-api"), api("real-api")]));
    for (const w of ["today", "week", "overall"] as const) {
      const s = entry(snap, w, "sybil-api");
      const r = entry(snap, w, "real-api");
      if (r.status === "ranked") expect(r.rank!).toBeLessThan(s.rank ?? Infinity);
      if (w !== "today") expect(r.score).toBeGreaterThan(s.score);
    }
    const week = snap.apis.find((a) => a.slug === "sybil-api")!.windows.week.breakdown;
    expect(week.payers.new).toBe(100);
    expect(week.payers.singleCreator).toBe(100);
    expect(week.weightedPayers).toBe(25);
    expect(week.B).toBe(0.5); // all in one hour
  });

  it("a one-hour burst is penalised against the same calls spread over the day", async () => {
    const { stub } = instance();
    const events: UsageEvent[] = [];
    for (let p = 0; p < 10; p++) {
      // Both sets of payers are established and pay other creators too: only B differs.
      events.push(
        ev("history-api", addr("burst", p), NOW - 3 * DAY),
        ev("history-api", addr("steady", p), NOW - 3 * DAY),
      );
      for (let h = 0; h < 24; h++) {
        events.push(ev("burst-api", addr("burst", p), NOW - 2 * HOUR - 30 * MIN + h * MIN));
        events.push(ev("steady-api", addr("steady", p), NOW - 2 * HOUR - h * HOUR));
      }
    }
    await stub.ingest(events);
    const snap = await snapshotOf(stub, catalog([api("burst-api"), api("steady-api"), api("history-api")]));
    const burst = snap.apis.find((a) => a.slug === "burst-api")!.windows.today;
    const steady = snap.apis.find((a) => a.slug === "steady-api")!.windows.week;
    expect(burst.breakdown.peakHourShare).toBe(1);
    expect(burst.breakdown.B).toBe(0.5);
    expect(steady.breakdown.B).toBe(1);
    expect(steady.breakdown.D).toBe(burst.breakdown.D);
    expect(steady.score).toBeCloseTo(burst.score * 2, 3);
    const week = snap.windows.week.entries;
    expect(week.findIndex((e) => e.slug === "steady-api")).toBeLessThan(week.findIndex((e) => e.slug === "burst-api"));
  });

  it("402 challenges, refusals, replays (even mislabelled countable) and failures never count as calls", async () => {
    const { stub } = instance();
    const payers = Array.from({ length: 5 }, (_, i) => addr("clean", i));
    const settled = (apiId: string) =>
      payers.flatMap((p) => Array.from({ length: 4 }, (_, k) => ev(apiId, p, NOW - k * HOUR)));
    const noise = payers.flatMap((p) => [
      ev("noisy-api", `ip:${p}`, NOW - MIN, {
        lifecycle: "payment_challenged",
        status: 402,
        countable: false,
        billable: false,
        billedAtomic: "0",
      }),
      ev("noisy-api", p, NOW - MIN, {
        lifecycle: "payment_invalid",
        status: 402,
        countable: false,
        billable: false,
        billedAtomic: "0",
      }),
      ev("noisy-api", p, NOW - MIN, {
        lifecycle: "rate_limited",
        status: 429,
        countable: false,
        billable: false,
        billedAtomic: "0",
      }),
      ev("noisy-api", p, NOW - MIN, {
        lifecycle: "quota_exceeded",
        status: 429,
        countable: false,
        billable: false,
        billedAtomic: "0",
      }),
      ev("noisy-api", p, NOW - MIN, {
        lifecycle: "spend_cap_exceeded",
        status: 402,
        countable: false,
        billable: false,
        billedAtomic: "0",
      }),
      ev("noisy-api", p, NOW - MIN, {
        lifecycle: "payment_replayed",
        countable: false,
        billable: false,
        billedAtomic: "0",
      }),
      // a producer bug: a replay marked countable and billable still never counts
      ev("noisy-api", p, NOW - MIN, { lifecycle: "payment_replayed", countable: true, billable: true }),
      ev("noisy-api", p, NOW - MIN, { lifecycle: "payment_challenged", status: 402, countable: true }),
    ]);
    await stub.ingest([...settled("clean-api"), ...settled("noisy-api"), ...noise]);
    const snap = await snapshotOf(stub, catalog([api("clean-api"), api("noisy-api")]));
    const clean = entry(snap, "week", "clean-api");
    const noisy = entry(snap, "week", "noisy-api");
    expect(noisy.metrics.calls).toBe(20);
    expect(noisy.metrics.revenueAtomic).toBe("20000");
    expect(noisy.score).toBe(clean.score);
    expect(noisy.metrics.challenges).toBe(10);
    expect(noisy.metrics.refusals).toBe(20);
    expect(noisy.metrics.replays).toBe(10);
    expect(noisy.metrics.events).toBe(60);
  });

  it("Wilson: 4/4 successes does not beat 990/1000", async () => {
    const { stub } = instance();
    // 4 payers × 1 call: 4/4, but only 2 weighted payers (each paid only this creator): emerging.
    const four = Array.from({ length: 4 }, (_, i) => ev("four-api", addr("four", i), NOW - i * HOUR));
    const many: UsageEvent[] = [];
    for (let i = 0; i < 1000; i++) {
      const failed = i < 10;
      many.push(
        ev(
          "many-api",
          addr("many", i % 8),
          NOW - (i % 48) * HOUR,
          failed
            ? { lifecycle: "tenant_error", status: 502, countable: false, billable: false, billedAtomic: "0" }
            : {},
        ),
      );
    }
    await ingestAll(stub, [...four, ...many]);
    const snap = await snapshotOf(stub, catalog([api("four-api"), api("many-api")]));
    const f = snap.apis.find((a) => a.slug === "four-api")!.windows.week.breakdown;
    const m = snap.apis.find((a) => a.slug === "many-api")!.windows.week.breakdown;
    expect([f.successes, f.attempts]).toEqual([4, 4]);
    expect([m.successes, m.attempts]).toEqual([990, 1000]);
    expect(f.wilson).toBeLessThan(m.wilson);
    expect(f.Q).toBeLessThan(m.Q);
    expect(entry(snap, "week", "many-api").rank).toBe(1);
    expect(entry(snap, "week", "many-api").metrics.successRate).toBe(0.99);
  });

  it("a later batch that moves no money keeps the revenue already recorded", async () => {
    const { stub } = instance();
    const payer = addr("keep", 1);
    await stub.ingest([ev("keep-api", payer, NOW - MIN), ev("keep-api", payer, NOW - MIN)]);
    // Same API, payer and hour; no money moved in this batch.
    await stub.ingest([
      ev("keep-api", payer, NOW - MIN, {
        lifecycle: "tenant_error",
        status: 502,
        countable: false,
        billable: false,
        billedAtomic: "0",
      }),
    ]);
    const snap = await snapshotOf(stub, catalog([api("keep-api")]));
    for (const window of ["today", "week", "overall"] as const) {
      expect(entry(snap, window, "keep-api").metrics.revenueAtomic, window).toBe("2000");
    }
  });

  it("a $0.001 API with 3 calls shows non-zero revenue", async () => {
    const { stub } = instance();
    await stub.ingest(Array.from({ length: 3 }, (_, i) => ev("cheap-api", addr("cheap", i), NOW - MIN)));
    const snap = await snapshotOf(stub, catalog([api("cheap-api")]));
    const e = entry(snap, "today", "cheap-api");
    expect(e.metrics.revenueAtomic).toBe("3000");
    expect(e.metrics.revenueUsd).toBe("$0.003");
    expect(snap.windows.today.stats.revenueUsd).toBe("$0.003");
    expect(snap.windows.today.stats.activePayers).toBe(3);
  });

  it("free APIs rank their hashed-IP callers with the same formula", async () => {
    const { stub } = instance();
    const events = Array.from({ length: 8 }, (_, p) =>
      Array.from({ length: 3 }, (_, k) =>
        ev("free-api", `ip:${p}abc`, NOW - (k + 1) * DAY - p * HOUR, {
          lifecycle: "served",
          priceAtomic: "0",
          billedAtomic: "0",
          billable: false,
        }),
      ),
    ).flat();
    await stub.ingest(events);
    const snap = await snapshotOf(stub, catalog([api("free-api", { paid: false, priceAtomic: "0" })]));
    const e = entry(snap, "week", "free-api");
    expect(e.status).toBe("ranked");
    expect(e.metrics.calls).toBe(24);
    expect(e.metrics.revenueUsd).toBe("$0.00");
    expect(snap.windows.week.stats.activePayers).toBe(0);
    expect(snap.windows.week.stats.activeCallers).toBe(8);
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
