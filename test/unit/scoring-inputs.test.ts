// The pure pieces that feed the scorer: event classification, batch aggregation, time windows,
// shard choice, and the snapshot builder's merge rules (creator-linked wallets, single-creator
// payers, money that never rounds to zero).
import { describe, expect, it } from "vitest";
import { aggregateBatch, classifyEvent, normalizeCaller } from "../../objects/leaderboard/events.ts";
import { leaderboardShardFor, shardCount } from "../../objects/leaderboard/shards.ts";
import { buildSnapshot } from "../../objects/leaderboard/snapshot.ts";
import { linkedPairs, sumBilledList } from "../../objects/leaderboard/snapshot-merge.ts";
import type { Catalog, CatalogApi, ShardExport, WindowExport } from "../../objects/leaderboard/snapshot-types.ts";
import { LATENCY_BUCKETS } from "../../objects/shared/histogram.ts";
import type { UsageEvent } from "../../objects/shared/usage-event.ts";
import { hourOf, windowRange, windowRanges } from "../../objects/leaderboard/windows.ts";
import { usageEvent } from "../support/usage-events.ts";

const NOW = Date.UTC(2026, 10, 23, 12, 30, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function ev(over: Partial<UsageEvent> = {}): UsageEvent {
  return usageEvent({ requestId: "req_1", ts: NOW, ...over });
}

describe("classifyEvent", () => {
  it("only settled paid calls and served free calls are countable, and only settled ones bill", () => {
    expect(classifyEvent(ev())).toEqual({ kind: "countable", billed: "1000", error: false });
    expect(classifyEvent(ev({ lifecycle: "served", billable: false, billedAtomic: "0" })).kind).toBe("countable");
    expect(classifyEvent(ev({ lifecycle: "served", countable: false })).kind).toBe("other");
    expect(classifyEvent(ev({ lifecycle: "served", billable: true, billedAtomic: "5" })).billed).toBe("0");
  });

  it("challenges, refusals and replays never count, even when marked countable", () => {
    expect(classifyEvent(ev({ lifecycle: "payment_challenged" })).kind).toBe("challenge");
    expect(classifyEvent(ev({ lifecycle: "payment_replayed" }))).toEqual({ kind: "replay", billed: "0", error: false });
    for (const l of ["payment_invalid", "rate_limited", "quota_exceeded", "spend_cap_exceeded"] as const)
      expect(classifyEvent(ev({ lifecycle: l })).kind).toBe("refusal");
    expect(classifyEvent(ev({ lifecycle: "tenant_error", status: 502 }))).toEqual({
      kind: "failure",
      billed: "0",
      error: true,
    });
    // The payer's or the facilitator's failure, the platform's refusal or error: never the API's.
    expect(classifyEvent(ev({ lifecycle: "settlement_failed", status: 402 })).kind).toBe("refusal");
    expect(classifyEvent(ev({ lifecycle: "request_rejected", status: 413 })).kind).toBe("refusal");
    expect(classifyEvent(ev({ lifecycle: "platform_error", status: 500 }))).toEqual({
      kind: "other",
      billed: "0",
      error: true,
    });
  });

  it("normalises wallet callers to lowercase and leaves hashed IPs alone", () => {
    expect(normalizeCaller("0xABCDEF0000000000000000000000000000000001")).toBe(
      "0xabcdef0000000000000000000000000000000001",
    );
    expect(normalizeCaller("ip:AbC")).toBe("ip:AbC");
  });
});

describe("aggregateBatch", () => {
  it("folds events per API hour and per payer hour; refusals carry no payer rows", () => {
    const agg = aggregateBatch([
      ev({ requestId: "a" }),
      ev({ requestId: "b", caller: "0x00000000000000000000000000000000000000AA", latencyMs: 3000 }),
      ev({
        requestId: "c",
        lifecycle: "tenant_error",
        status: 500,
        countable: false,
        billable: false,
        billedAtomic: "0",
      }),
      ev({
        requestId: "d",
        lifecycle: "payment_challenged",
        caller: "ip:x",
        status: 402,
        countable: false,
        billable: false,
        billedAtomic: "0",
      }),
      ev({ requestId: "e", ts: NOW - 2 * HOUR }),
    ]);
    const now = agg.apiHours.find((a) => a.hour === hourOf(NOW))!;
    expect(now).toMatchObject({ events: 4, countable: 2, fails: 1, challenges: 1, errors: 1, billed: "2000" });
    expect(now.hist.reduce((a, b) => a + b, 0)).toBe(3);
    expect(agg.payerHours).toHaveLength(2); // one payer (case-folded), two hours; no row for ip:x
    expect(agg.payerTotals).toEqual([
      {
        apiId: "weather",
        payer: "0x00000000000000000000000000000000000000aa",
        n: 3,
        fails: 1,
        billed: "3000",
        firstMs: NOW - 2 * HOUR,
      },
    ]);
    expect(agg.apis).toEqual([{ apiId: "weather", owner: "cr_a", directory: "general", ts: NOW }]);
  });

  it("adds money exactly beyond 2^53 and 2^64 (18-decimal assets)", () => {
    const big = "123456789012345678901234567890";
    const agg = aggregateBatch([ev({ requestId: "a", billedAtomic: big }), ev({ requestId: "b", billedAtomic: big })]);
    expect(agg.payerTotals[0]!.billed).toBe("246913578024691357802469135780");
    expect(sumBilledList(`${big},${big},1`)).toBe("246913578024691357802469135781");
    expect(sumBilledList(null)).toBe("0");
  });
});

describe("windows", () => {
  it("today is the UTC day so far, week the last 168 hours, overall unbounded", () => {
    const today = windowRange("today", NOW);
    expect(today.fromHour).toBe(hourOf(Date.UTC(2026, 10, 23)));
    expect(today.toHour).toBe(hourOf(NOW) + 1);
    const week = windowRange("week", NOW);
    expect(week.toHour - week.fromHour).toBe(168);
    const overall = windowRange("overall", NOW);
    expect(overall.fromHour).toBeLessThan(hourOf(0));
    expect(overall.toHour).toBeGreaterThan(hourOf(NOW + 100 * 365 * DAY));
    expect(windowRanges(NOW).map((r) => r.name)).toEqual(["today", "week", "overall"]);
    // just after midnight, "today" is one hour long
    const midnight = windowRange("today", Date.UTC(2026, 10, 24, 0, 5));
    expect(midnight.toHour - midnight.fromHour).toBe(1);
  });
});

describe("shards", () => {
  it("stable names, count from the env var with a sane default", () => {
    expect(leaderboardShardFor("anything", 1)).toBe("shard-0");
    expect(leaderboardShardFor("weather", 4)).toMatch(/^shard-[0-3]$/);
    expect(shardCount({})).toBe(1);
    expect(shardCount({ LEADERBOARD_SHARDS: "4" })).toBe(4);
    expect(shardCount({ LEADERBOARD_SHARDS: "zero" })).toBe(1);
    expect(shardCount({ LEADERBOARD_SHARDS: "1000" })).toBe(64);
  });
});

// ---- buildSnapshot --------------------------------------------------------------------------

const zeros = () => new Array<number>(LATENCY_BUCKETS).fill(0);

function api(slug: string, owner: string, over: Partial<CatalogApi> = {}): CatalogApi {
  return {
    slug,
    owner,
    directory: "general",
    description: "",
    resourceType: "dataset",
    paid: true,
    priceAtomic: "1000",
    decimals: 6,
    network: "eip155:84532",
    payTo: null,
    hosts: [],
    accepts: [],
    updatedAt: NOW,
    ...over,
  };
}

/** One shard export with the same pairs in every window (enough for merge-rule tests). */
function shard(
  pairs: { apiId: string; payer: string; n: number; billed?: string }[],
  firstSeenMs = NOW - 10 * DAY,
): ShardExport {
  const apiIds = [...new Set(pairs.map((p) => p.apiId))];
  const win: WindowExport = {
    pairs: pairs.map((p) => ({
      apiId: p.apiId,
      payer: p.payer,
      n: p.n,
      fails: 0,
      billed: p.billed ?? String(p.n * 1000),
    })),
    apis: apiIds.map((apiId) => {
      const calls = pairs.filter((p) => p.apiId === apiId).reduce((t, p) => t + p.n, 0);
      const hist = zeros();
      hist[6] = calls;
      return {
        apiId,
        events: calls,
        countable: calls,
        fails: 0,
        challenges: 0,
        refusals: 0,
        replays: 0,
        errors: 0,
        billed: String(calls * 1000),
        hist,
        linkedHist: zeros(),
        peakHour: Math.ceil(calls / 24),
      };
    }),
  };
  return {
    shard: "shard-0",
    apis: [],
    firstSeen: [...new Set(pairs.map((p) => p.payer))].map((payer) => ({ payer, ms: firstSeenMs })),
    windows: { today: win, week: win, overall: win },
  };
}

function catalogOf(
  apis: CatalogApi[],
  extra: { owner: string; address: string }[] = [],
  deleted: { slug: string; owner: string; payTo: string }[] = [],
): Catalog {
  const linkedByOwner = new Map<string, Set<string>>();
  const link = (o: string, a: string) =>
    linkedByOwner.set(o, new Set([...(linkedByOwner.get(o) ?? []), a.toLowerCase()]));
  for (const a of apis) if (a.payTo) link(a.owner, a.payTo);
  for (const d of deleted) link(d.owner, d.payTo);
  for (const e of extra) link(e.owner, e.address);
  const ownerBySlug = new Map([
    ...apis.map((a) => [a.slug, a.owner] as [string, string]),
    ...deleted.map((d) => [d.slug, d.owner] as [string, string]),
  ]);
  return { apis, linkedByOwner, ownerBySlug };
}

describe("buildSnapshot", () => {
  it("the payTo of a creator's other API (even a deleted one) is linked on all of its APIs", () => {
    const cat = catalogOf(
      [api("a1", "cr_a", { payTo: "0xAAA0000000000000000000000000000000000001" }), api("a2", "cr_a")],
      [],
      [{ slug: "old", owner: "cr_a", payTo: "0xaaa0000000000000000000000000000000000002" }],
    );
    expect(linkedPairs(cat)).toContainEqual(["a2", "0xaaa0000000000000000000000000000000000001"]);
    const snap = buildSnapshot(
      cat,
      [
        shard([
          { apiId: "a2", payer: "0xaaa0000000000000000000000000000000000001", n: 50 },
          { apiId: "a2", payer: "0xaaa0000000000000000000000000000000000002", n: 50 },
          { apiId: "a2", payer: "0xbbb0000000000000000000000000000000000001", n: 2 },
        ]),
      ],
      NOW,
    );
    const a2 = snap.windows.week.entries.find((e) => e.slug === "a2")!;
    expect(a2.metrics.calls).toBe(2);
    expect(a2.metrics.selfDealtCalls).toBe(100);
    expect(a2.metrics.revenueAtomic).toBe("2000");
  });

  it("a payer that also paid another creator weighs 1, one that only paid this creator 0.5", () => {
    const cat = catalogOf([api("a1", "cr_a"), api("b1", "cr_b")]);
    const snap = buildSnapshot(
      cat,
      [
        shard([
          { apiId: "a1", payer: "p-both", n: 3 },
          { apiId: "b1", payer: "p-both", n: 1 },
          { apiId: "a1", payer: "p-only", n: 3 },
        ]),
      ],
      NOW,
    );
    const b = snap.apis.find((x) => x.slug === "a1")!.windows.overall.breakdown;
    expect(b.weightedPayers).toBe(1.5);
    expect(b.payers.singleCreator).toBe(1);
  });

  it("calls as a creator-linked wallet do not make a payer multi-creator", () => {
    // p is creator B's own wallet; its calls to B's API must not lift its weight on A's API.
    const cat = catalogOf(
      [api("a1", "cr_a"), api("b1", "cr_b")],
      [{ owner: "cr_b", address: "0xccc0000000000000000000000000000000000001" }],
    );
    const p = "0xccc0000000000000000000000000000000000001";
    const snap = buildSnapshot(
      cat,
      [
        shard([
          { apiId: "a1", payer: p, n: 3 },
          { apiId: "b1", payer: p, n: 3 },
        ]),
      ],
      NOW,
    );
    expect(snap.apis.find((x) => x.slug === "a1")!.windows.overall.breakdown.weightedPayers).toBe(0.5);
  });

  it("money never rounds to zero and sums exactly across APIs", () => {
    const cat = catalogOf([api("tiny", "cr_t", { priceAtomic: "1" })]);
    const snap = buildSnapshot(cat, [shard([{ apiId: "tiny", payer: "p1", n: 1, billed: "1" }])], NOW);
    expect(snap.windows.today.entries[0]!.metrics.revenueUsd).toBe("$0.000001");
    expect(snap.windows.today.entries[0]!.price).toEqual({ atomic: "1", usd: "$0.000001" });
    expect(snap.windows.today.stats.revenueUsd).toBe("$0.000001");
  });

  it("lists every published API: ranked by score, then emerging; unknown API ids in the shards are ignored", () => {
    const cat = catalogOf([api("quiet", "cr_q"), api("busy", "cr_b")]);
    const payers = Array.from({ length: 10 }, (_, i) => ({ apiId: "busy", payer: `p${i}`, n: 5 }));
    const snap = buildSnapshot(cat, [shard([...payers, { apiId: "ghost", payer: "p1", n: 100 }])], NOW);
    expect(snap.windows.week.entries.map((e) => [e.slug, e.rank, e.status])).toEqual([
      ["busy", 1, "ranked"],
      ["quiet", null, "emerging"],
    ]);
    expect(snap.apis.map((a) => a.slug)).toEqual(["busy", "quiet"]);
    expect(snap.windows.week.stats).toMatchObject({
      publishedApis: 2,
      directories: 1,
      rankedApis: 1,
      emergingApis: 1,
      calls: 50,
    });
  });

  it("merging shards adds the same (API, payer) from two shards", () => {
    const cat = catalogOf([api("a1", "cr_a")]);
    const snap = buildSnapshot(
      cat,
      [shard([{ apiId: "a1", payer: "p1", n: 2 }]), shard([{ apiId: "a1", payer: "p1", n: 3 }])],
      NOW,
    );
    expect(snap.windows.week.entries[0]!.metrics).toMatchObject({ calls: 5, payers: 1, revenueAtomic: "5000" });
  });
});
