// The demo market's plan (cli/dev/market-plan.ts) against the real scoring function: what the
// seeded leaderboard must show follows from the plan alone, so a change to either that would
// leave `npm start` with nothing ranked, or the wash trader ranked, fails here in milliseconds.
// Also: the ready banner with the market still fits 100 columns and names /explore and /dashboard.
import { describe, expect, it } from "vitest";
import { MARKET_APIS, ORGANIC_HABITS, WASH, plannedCalls } from "../../cli/dev/market-plan.ts";
import { scoreApi, type PayerInput } from "../../objects/leaderboard/scoring.ts";
import { banner } from "../../cli/commands/dev.ts";

const NOW = Date.UTC(2026, 11, 1, 12);
const owner: Record<string, string> = { "world-cities-pro": "dev" };
for (const api of MARKET_APIS) owner[api.slug] = api.owner;

/** Every payer of the plan as the leaderboard sees it: calls per API, creators paid. */
function payers(): { calls: Record<string, number>; linkedTo?: string }[] {
  const out: { calls: Record<string, number>; linkedTo?: string }[] = ORGANIC_HABITS.map((h) => ({ calls: { ...h } }));
  out.push({ calls: { [WASH.slug]: WASH.selfCalls }, linkedTo: owner[WASH.slug]! });
  for (let i = 0; i < WASH.sybils; i++) out.push({ calls: { [WASH.slug]: WASH.callsPerSybil } });
  return out;
}

function score(slug: string) {
  const inputs: PayerInput[] = payers()
    .filter((p) => (p.calls[slug] ?? 0) > 0)
    .map((p, i) => ({
      payer: `p${i}`,
      calls: p.calls[slug]!,
      failures: 0,
      linked: p.linkedTo === owner[slug],
      singleCreator: new Set(Object.keys(p.calls).map((s) => owner[s])).size === 1,
      firstSeenMs: NOW - 60_000, // a fresh stack: every payer is new
    }));
  // A fresh seeding lands in one hour: the busiest hour holds every non-linked call.
  const peakHourCalls = inputs.filter((p) => !p.linked).reduce((s, p) => s + p.calls, 0);
  return scoreApi({ payers: inputs, windowEndMs: NOW, p95Ms: 500, peakHourCalls });
}

describe("demo market plan", () => {
  it("counts its calls", () => {
    const p = plannedCalls();
    expect(p.total).toBe(Object.values(p.bySlug).reduce((s, n) => s + n, 0));
    const organicWash = ORGANIC_HABITS.reduce((s, h) => s + (h[WASH.slug] ?? 0), 0);
    expect(p.bySlug[WASH.slug]).toBe(WASH.selfCalls + WASH.sybils * WASH.callsPerSybil + organicWash);
    expect(ORGANIC_HABITS.length).toBeGreaterThanOrEqual(6);
    expect(new Set(Object.values(owner).map(String)).size).toBe(3);
  });

  it("ranks the honest APIs of three directories and leaves the busiest, wash-traded one emerging", () => {
    const honest = Object.keys(owner).filter((s) => s !== WASH.slug);
    const dirs = new Set(honest.map((s) => MARKET_APIS.find((a) => a.slug === s)?.config.directory ?? "geo"));
    expect(dirs.size).toBe(3);
    for (const slug of honest) expect(score(slug).status, slug).toBe("ranked");
    const wash = score(WASH.slug);
    expect(wash.status).toBe("emerging");
    expect(wash.weightedPayers).toBeLessThan(wash.minWeightedPayers);
    const calls = plannedCalls().bySlug;
    for (const slug of honest) expect(calls[WASH.slug]).toBeGreaterThan(calls[slug]!);
  });
});

describe("ready banner", () => {
  it("names /explore and /dashboard within 100 columns", () => {
    const url = "http://127.0.0.1:65535";
    const text = banner({
      apiUrl: url,
      creatorKey: `claw_sk_${"a".repeat(48)}`,
      operatorToken: `op_${"f".repeat(48)}`,
      facilitatorUrl: "http://127.0.0.1:65534",
      rpcUrl: "http://127.0.0.1:65533",
      network: "eip155:84532",
      asset: { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", name: "USDC", version: "2", decimals: 6 },
      payer: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      payTo: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
      demos: [{ slug: "world-cities-pro", url: `${url}/t/world-cities-pro/`, version: 1, rows: 50, priceUsd: 0.001 }],
      market: {
        apis: ["a", "b", "c", "d"],
        organicPayers: 8,
        sybilWallets: 5,
        washWallet: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        washApi: "token-buzz",
        paidCalls: 999,
        selfDealtCalls: 12,
        ms: 99_999,
        phases: { setup: 1, calls: 1, delivery: 1, rollup: 1 },
      },
    });
    for (const line of text.split("\n")) expect(line.length, line).toBeLessThanOrEqual(100);
    expect(text).toContain(`${url}/explore`);
    expect(text).toContain(`${url}/dashboard`);
    expect(text).toContain("token-buzz");
  });
});
