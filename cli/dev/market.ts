// Seeds the demo market of market-plan.ts through real paid calls on the local chain (never by
// writing snapshot rows): deploys the market's APIs, funds fresh payer wallets, runs every payer's
// calls with the official x402 client in a bounded pool, waits until the leaderboard has every
// settled payment, then forces a rollup so /explore ranks them at once (docs/ARCHITECTURE.md §7).
import { privateKeyToAccount } from "viem/accounts";
import { keccak256, toHex, type Address, type Hex } from "viem";
import type { LocalStack } from "./stack.ts";
import { deployDemo } from "./seed.ts";
import { ensureMarketCreator } from "./market-state.ts";
import { MARKET_APIS, ORGANIC_HABITS, WASH, plannedCalls, type MarketCreatorRole } from "./market-plan.ts";
import { type Creator, expectStatus, forceRollup, payingFetch, registerWallet } from "./traffic.ts";
import { runBounded, waitForSettledEvents } from "./traffic.ts";

/** Payer sessions in flight at once: enough to overlap HTTP and settlement, few enough for 2 cores. */
export const MARKET_CONCURRENCY = 6;
/** Tokens (6 decimals) minted to each fresh wallet: 10, far above what its calls cost. */
const FUNDING = 10_000_000n;

export interface MarketSummary {
  apis: string[];
  organicPayers: number;
  sybilWallets: number;
  washWallet: Address;
  washApi: string;
  paidCalls: number;
  selfDealtCalls: number;
  ms: number;
  /** Where the time went, ms: deploy + funding, the paid calls, the meters' delivery, the rollup. */
  phases: { setup: number; calls: number; delivery: number; rollup: number };
}

/**
 * The market's wallets are the same every run (keys derived from fixed labels, public and local
 * only, like anvil's): a restart on kept state meets the same payers again instead of adding new
 * ones, so the wash trader's sybils never add up to a ranking and its registered wallet is not
 * registered anew (a creator may register only a few).
 */
export const demoKey = (label: string): Hex => keccak256(toHex(`402claw demo market: ${label}`));

type Session = { key: Hex; calls: [slug: string, count: number][] };

async function deployApis(stack: LocalStack): Promise<Record<MarketCreatorRole, Creator>> {
  const [ledger, hype] = await Promise.all([ensureMarketCreator(stack, "ledger"), ensureMarketCreator(stack, "hype")]);
  const creators = { ledger, hype };
  const { network, asset } = stack.payments;
  await Promise.all(
    MARKET_APIS.map((api) => {
      // The API's own payTo, never one of the payers.
      const payTo = privateKeyToAccount(demoKey(`payTo ${api.slug}`)).address;
      return deployDemo(stack.apiUrl, creators[api.owner].key, { ...api }, { payTo, network, asset });
    }),
  );
  return creators;
}

/** Organic sessions first in pool order, the wash trader's and sybils' interleaved after. */
function sessions(demoPayer: Hex, wash: Hex, sybils: Hex[], organic: Hex[]): Session[] {
  const out: Session[] = ORGANIC_HABITS.map((habit, i) => ({
    key: i === 0 ? demoPayer : organic[i - 1]!,
    calls: Object.entries(habit),
  }));
  const perSession = Math.ceil(WASH.selfCalls / WASH.selfSessions);
  for (let s = 0; s < WASH.selfSessions; s++) {
    const count = Math.min(perSession, WASH.selfCalls - s * perSession);
    out.push({ key: wash, calls: [[WASH.slug, count]] });
    const sybil = sybils[s];
    if (sybil) out.push({ key: sybil, calls: [[WASH.slug, WASH.callsPerSybil]] });
  }
  for (const sybil of sybils.slice(WASH.selfSessions)) {
    out.push({ key: sybil, calls: [[WASH.slug, WASH.callsPerSybil]] });
  }
  return out;
}

async function runSession(stack: LocalStack, session: Session, n: number): Promise<void> {
  const pay = payingFetch(stack, session.key);
  for (const [slug, count] of session.calls) {
    for (let i = 0; i < count; i++) {
      // Queries vary a little, like real clients: page sizes 1-5.
      const res = await pay(`${stack.apiUrl}/t/${slug}/v1/records?limit=${1 + ((n + i) % 5)}`);
      await expectStatus(res, 200, `demo market: paid call to ${slug}`);
    }
  }
}

export async function seedMarket(stack: LocalStack): Promise<MarketSummary> {
  const t0 = performance.now();
  const since = Date.now() - 1000;
  const organic = Array.from({ length: ORGANIC_HABITS.length - 1 }, (_, i) => demoKey(`organic payer ${i + 1}`));
  const wash = demoKey("wash wallet");
  const sybils = Array.from({ length: WASH.sybils }, (_, i) => demoKey(`sybil ${i + 1}`));
  const washWallet = privateKeyToAccount(wash).address;
  const wallets = [...organic, wash, ...sybils].map((k) => privateKeyToAccount(k).address);
  const [creators] = await Promise.all([deployApis(stack), stack.payments.chain.fund(wallets, FUNDING)]);
  await registerWallet(stack, creators.hype, washWallet);
  const t1 = performance.now();

  const plan = sessions(stack.payments.accounts.payer.privateKey, wash, sybils, organic);
  await runBounded(
    plan.map((s, n) => () => runSession(stack, s, n)),
    MARKET_CONCURRENCY,
  );
  const t2 = performance.now();
  const planned = plannedCalls();
  await waitForSettledEvents(stack, planned.bySlug, since);
  const t3 = performance.now();
  await forceRollup(stack);
  const t4 = performance.now();
  return {
    apis: ["world-cities-pro", ...MARKET_APIS.map((a) => a.slug)],
    organicPayers: ORGANIC_HABITS.length,
    sybilWallets: sybils.length,
    washWallet,
    washApi: WASH.slug,
    paidCalls: planned.total,
    selfDealtCalls: planned.selfDealt,
    ms: Math.round(t4 - t0),
    phases: {
      setup: Math.round(t1 - t0),
      calls: Math.round(t2 - t1),
      delivery: Math.round(t3 - t2),
      rollup: Math.round(t4 - t3),
    },
  };
}
