// Test fixture: a seeded, reproducible mix of usage events over the last ten days (every
// lifecycle, mislabelled countable flags, 5xx statuses, latencies across the histogram, money with
// leading zeros, a creator-linked wallet, paid and hashed-IP callers, a directory that changes).
// Events are spread round-robin over `apis` and have distinct timestamps; `spanMs` packs them.
import { OUTCOMES } from "../../objects/shared/outcomes.ts";
import type { UsageEvent } from "../../objects/shared/usage-event.ts";

export interface MixOptions {
  seed: number;
  count: number;
  now: number;
  apis: string[];
  /** A creator-linked wallet that also calls. */
  linked: string;
  /** How far back the events go (default ten days); a short span makes dense, foldable traffic. */
  spanMs?: number;
  /** Only the first n callers (the linked wallet and a mixed-case wallet come first). */
  callers?: number;
  /** Latencies to pick from (default: a spread across the whole histogram). */
  latencies?: number[];
}

/** mulberry32: a small deterministic PRNG, so a failing mix can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUS: Record<string, number> = {
  payment_challenged: 402,
  payment_invalid: 402,
  rate_limited: 429,
  quota_exceeded: 429,
  spend_cap_exceeded: 402,
  tenant_error: 500,
  settlement_failed: 502,
};

export function knownMix(o: MixOptions): UsageEvent[] {
  const rand = prng(o.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const wallets = Array.from({ length: 30 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, "0")}`);
  const ips = Array.from({ length: 10 }, (_, i) => `ip:hash${i}`);
  const all = [o.linked, "0xABCDEF0000000000000000000000000000000001", ...wallets, ...ips];
  const callers = all.slice(0, o.callers ?? all.length);
  const usedTs = new Set<number>();
  const events: UsageEvent[] = [];
  for (let i = 0; i < o.count; i++) {
    const apiId = o.apis[i % o.apis.length]!;
    let ts = o.now - Math.floor(rand() * (o.spanMs ?? 10 * 86_400_000));
    while (usedTs.has(ts)) ts -= 1;
    usedTs.add(ts);
    const lifecycle = rand() < 0.4 ? "payment_settled" : rand() < 0.3 ? "served" : pick(OUTCOMES);
    const settled = lifecycle === "payment_settled";
    const countable = settled || lifecycle === "served" ? rand() < 0.95 : rand() < 0.05; // mislabels both ways
    const status = lifecycle in STATUS ? STATUS[lifecycle]! : rand() < 0.03 ? 503 : 200;
    const latencyMs = pick(o.latencies ?? [0, 0.5, 3, 40, 180, 900, 2500, 12_000, Math.round(rand() * 3000)]);
    events.push({
      requestId: `mix_${o.seed}_${i}`,
      ts,
      apiId,
      owner: `cr_${apiId}`,
      directory: ts > o.now - 3 * 86_400_000 ? "geo" : "general",
      caller: pick(callers),
      status,
      latencyMs,
      priceAtomic: "1000",
      billedAtomic: settled ? pick(["1000", "0001000", "2500", "1"]) : "0",
      lifecycle,
      countable,
      billable: settled ? rand() < 0.97 : false,
      network: "eip155:84532",
      env: "test",
    });
  }
  return events;
}
