// The demo market `claw dev` seeds (docs/ARCHITECTURE.md §7, §13): who sells what, and who pays
// for what how often. Pure data, so tests can derive what the leaderboard must show from it.
//
// Three creators: the dev creator (world-cities-pro, from seed.ts), Ledger Labs (fx-rates,
// weather-now) and Hype Metrics (token-buzz), which washes volume: a wallet it registered calls
// its own API (self-dealt, excluded) and fresh sybil wallets that pay nobody else add calls worth
// a quarter payer each. Eight organic payers, each paying APIs of two creators, spread their calls
// unevenly, so the honest APIs clear the ranking threshold and token-buzz, the busiest by raw
// calls, stays emerging.
export const MARKET_CREATORS = { ledger: "Ledger Labs", hype: "Hype Metrics" } as const;
export type MarketCreatorRole = keyof typeof MARKET_CREATORS;

export interface MarketApi {
  slug: string;
  file: string;
  owner: MarketCreatorRole;
  config: Record<string, unknown>;
}

export const MARKET_APIS: readonly MarketApi[] = [
  {
    slug: "fx-rates",
    file: "fx-rates.csv",
    owner: "ledger",
    config: { priceUsd: 0.002, directory: "finance", description: "Daily reference exchange rates, USD, EUR bases." },
  },
  {
    slug: "weather-now",
    file: "weather-now.csv",
    owner: "ledger",
    config: { priceUsd: 0.0005, directory: "weather", description: "Current conditions in eight big cities." },
  },
  {
    slug: "token-buzz",
    file: "token-buzz.csv",
    owner: "hype",
    config: { priceUsd: 0.001, directory: "finance", description: "Social mentions and sentiment of trending tokens." },
  },
];

/** The API the wash trader pumps, and how. */
export const WASH = { slug: "token-buzz", selfCalls: 12, selfSessions: 3, sybils: 5, callsPerSybil: 3 } as const;

/**
 * Organic payers' habits: paid calls per API, in the order they make them. Payer 0 is the stack's
 * demo payer (the one `claw call` uses); the others are fresh funded wallets.
 */
export const ORGANIC_HABITS: readonly Readonly<Record<string, number>>[] = [
  { "world-cities-pro": 3, "fx-rates": 2, "weather-now": 1 },
  { "fx-rates": 4, "world-cities-pro": 1 },
  { "world-cities-pro": 5, "weather-now": 2 },
  { "weather-now": 3, "fx-rates": 1, "world-cities-pro": 1 },
  { "world-cities-pro": 2, "token-buzz": 1, "fx-rates": 2, "weather-now": 1 },
  { "weather-now": 1, "world-cities-pro": 1, "fx-rates": 1 },
  { "fx-rates": 3, "world-cities-pro": 2, "weather-now": 1 },
  { "world-cities-pro": 1, "weather-now": 2, "fx-rates": 1 },
];

export interface PlannedCalls {
  /** slug → all paid calls (organic + sybil + self-dealt). */
  bySlug: Record<string, number>;
  selfDealt: number;
  total: number;
}

export function plannedCalls(): PlannedCalls {
  const bySlug: Record<string, number> = {};
  const add = (slug: string, n: number) => (bySlug[slug] = (bySlug[slug] ?? 0) + n);
  for (const habit of ORGANIC_HABITS) for (const [slug, n] of Object.entries(habit)) add(slug, n);
  add(WASH.slug, WASH.selfCalls + WASH.sybils * WASH.callsPerSybil);
  const total = Object.values(bySlug).reduce((s, n) => s + n, 0);
  return { bySlug, selfDealt: WASH.selfCalls, total };
}
