// `npm start`'s living market (issue 12 item 5): the real `claw dev` seeds, through paid calls on
// the local chain, APIs in three directories from eight organic payers, a wash trader paying its
// own API from a registered wallet plus fresh sybils, and rolls up. The leaderboard must rank the
// honest APIs, keep the wash-traded one (the busiest by raw calls) below them with its self-dealt
// calls excluded and explained; `--no-demo-traffic` must seed no paid call at all.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MarketSummary } from "../../cli/dev/market.ts";
import { ORGANIC_HABITS, WASH, plannedCalls } from "../../cli/dev/market-plan.ts";
import { startClawDev, type ClawDev } from "./support/claw-dev.ts";

type Summary = { apiUrl: string; market?: MarketSummary };
interface Entry {
  slug: string;
  status: "ranked" | "emerging";
  rank: number | null;
  directory: string;
  score: number;
  metrics: { calls: number; payers: number; selfDealtCalls: number };
}
interface Board {
  items: Entry[];
  emerging: Entry[];
}

const board = async (api: string): Promise<Board> => {
  const res = await fetch(`${api}/v1/leaderboard?window=today`);
  expect(res.status).toBe(200);
  return (await res.json()) as Board;
};

describe("npm start --no-demo-traffic", () => {
  it("seeds no paid call and ranks nothing", async () => {
    const dev = await startClawDev<Summary>(["--no-demo-traffic"]);
    try {
      expect(dev.summary.market).toBeUndefined();
      const lb = await board(dev.summary.apiUrl);
      expect(lb.items).toEqual([]);
      const all = [...lb.items, ...lb.emerging];
      expect(all.map((e) => e.slug)).not.toContain(WASH.slug);
      expect(all.reduce((s, e) => s + e.metrics.calls + e.metrics.selfDealtCalls, 0)).toBe(0);
    } finally {
      await dev.stop();
    }
  });
});

describe("npm start's demo market", () => {
  let dev: ClawDev<Summary>;
  let lb: Board;
  const planned = plannedCalls();
  beforeAll(async () => {
    dev = await startClawDev<Summary>();
    lb = await board(dev.summary.apiUrl);
  });
  afterAll(() => dev?.stop());

  it("reports what it seeded", () => {
    const m = dev.summary.market!;
    expect(m).toMatchObject({ organicPayers: 8, sybilWallets: WASH.sybils, washApi: WASH.slug });
    expect(m.paidCalls).toBe(planned.total);
    expect(m.selfDealtCalls).toBe(WASH.selfCalls);
  });

  it("ranks APIs of at least three directories with their organic calls", () => {
    expect(lb.items.length).toBeGreaterThanOrEqual(3);
    expect(new Set(lb.items.map((e) => e.directory)).size).toBeGreaterThanOrEqual(3);
    for (const e of lb.items) {
      expect(e.status).toBe("ranked");
      expect(e.score).toBeGreaterThan(0);
      // Every call an honest API got is organic: the ledger of the plan, one for one.
      expect(e.metrics.calls).toBe(planned.bySlug[e.slug]);
      expect(e.metrics.selfDealtCalls).toBe(0);
      const payers = ORGANIC_HABITS.filter((h) => (h[e.slug] ?? 0) > 0).length;
      expect(e.metrics.payers).toBe(payers);
    }
    expect(lb.items.map((e) => e.rank)).toEqual(lb.items.map((_, i) => i + 1));
  });

  it("demotes the wash trader although it made the most raw calls", () => {
    const busiest = Object.entries(planned.bySlug).sort((a, b) => b[1] - a[1])[0]![0];
    expect(busiest).toBe(WASH.slug);
    const wash = [...lb.items, ...lb.emerging].find((e) => e.slug === WASH.slug)!;
    const lowestRanked = Math.min(...lb.items.map((e) => e.score));
    expect(wash.status === "emerging" || wash.score < lowestRanked).toBe(true);
    expect(wash.metrics.selfDealtCalls).toBe(WASH.selfCalls);
    expect(wash.metrics.calls).toBe(planned.bySlug[WASH.slug]! - WASH.selfCalls);
  });

  it("explains the demotion in /v1/apis/:slug and on its page", async () => {
    const res = await fetch(`${dev.summary.apiUrl}/v1/apis/${WASH.slug}`);
    expect(res.status).toBe(200);
    const today = ((await res.json()) as any).api.windows.today;
    expect(today.breakdown.linkedCalls).toBe(WASH.selfCalls);
    expect(today.breakdown.payers.linked).toBe(1);
    expect(today.breakdown.payers.singleCreator).toBeGreaterThanOrEqual(WASH.sybils);
    expect(today.breakdown.weightedPayers).toBeLessThan(today.breakdown.minWeightedPayers);
    const page = await (await fetch(`${dev.summary.apiUrl}/apis/${WASH.slug}`)).text();
    expect(page).toContain(`${WASH.selfCalls} self-dealt calls`);
    expect(page).toContain("Emerging, not ranked yet");
  });

  it("shows the ranked APIs on /explore", async () => {
    const res = await fetch(`${dev.summary.apiUrl}/explore`);
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const e of lb.items) expect(html).toContain(`/apis/${e.slug}`);
  });
});
