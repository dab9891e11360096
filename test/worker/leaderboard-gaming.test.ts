// The anti-gaming scenarios of issue #4, scored from what the Leaderboard DO really stored (export → buildSnapshot).

import { describe, expect, it } from "vitest";
import type { UsageEvent } from "../../objects/shared/usage-event.ts";
import {
  DAY,
  HOUR,
  MIN,
  NOW,
  addr,
  api,
  catalog,
  entry,
  ev,
  ingestAll,
  instance,
  snapshotOf,
} from "../support/leaderboard.ts";

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
