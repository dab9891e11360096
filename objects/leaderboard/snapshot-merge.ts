// The rollup's first pure step (docs/ARCHITECTURE.md §7): merge what every shard exported into one
// view per window, and resolve who is creator-linked to which API. No I/O, no clock.
//
// Merging shards: every (API, payer) and per-API sum is added across shards. An API lives on one
// shard (leaderboardShardFor), so its busiest hour is exact; only while LEADERBOARD_SHARDS is being
// changed can one API be split, and then its peak hour is the larger of the shard peaks.
//
// Who is "creator-linked" for an API: every payTo of any tenant of the same creator (deleted ones
// too: a wallet does not stop being theirs) and every wallet the creator registered. Addresses
// compare lowercase. A payer "paid only this creator" when the creators it made countable calls
// to (all time, its calls as a linked wallet not included) are exactly this API's creator.
import type { ApiWindowRow, Catalog, PairRow, ShardExport } from "./snapshot-types.ts";
import type { WindowName } from "./windows.ts";

const SEP = "\u0000";

/** The (apiId, address) pairs the shards must treat as creator-linked, as one JSON array. */
export function linkedPairs(catalog: Catalog): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [slug, owner] of catalog.ownerBySlug) {
    for (const address of catalog.linkedByOwner.get(owner) ?? []) pairs.push([slug, address]);
  }
  return pairs;
}

export function sumAtomic(values: Iterable<string>): bigint {
  let total = 0n;
  for (const v of values) if (v) total += BigInt(v);
  return total;
}

/** Comma list from group_concat (or null) → exact sum as a decimal string. */
export function sumBilledList(list: string | null | undefined): string {
  return list ? sumAtomic(list.split(",")).toString() : "0";
}

/** One window over all shards: the (API, payer) pairs grouped by API, and the per-API sums. */
export interface MergedWindow {
  pairsByApi: Map<string, PairRow[]>;
  apis: Map<string, ApiWindowRow>;
}

export function mergeWindow(exports: readonly ShardExport[], name: WindowName): MergedWindow {
  const pairs = new Map<string, PairRow>();
  const apis = new Map<string, ApiWindowRow>();
  for (const ex of exports) {
    for (const p of ex.windows[name].pairs) {
      const key = `${p.apiId}${SEP}${p.payer}`;
      const prev = pairs.get(key);
      if (!prev) pairs.set(key, { ...p });
      else {
        const billed = (BigInt(prev.billed) + BigInt(p.billed)).toString();
        pairs.set(key, { ...prev, n: prev.n + p.n, fails: prev.fails + p.fails, billed });
      }
    }
    for (const a of ex.windows[name].apis) {
      const prev = apis.get(a.apiId);
      if (prev) addApiRow(prev, a);
      else apis.set(a.apiId, { ...a, hist: [...a.hist], linkedHist: [...a.linkedHist] });
    }
  }
  const pairsByApi = new Map<string, PairRow[]>();
  for (const p of pairs.values()) {
    const list = pairsByApi.get(p.apiId);
    if (list) list.push(p);
    else pairsByApi.set(p.apiId, [p]);
  }
  return { pairsByApi, apis };
}

function addApiRow(into: ApiWindowRow, a: ApiWindowRow): void {
  into.events += a.events;
  into.countable += a.countable;
  into.fails += a.fails;
  into.challenges += a.challenges;
  into.refusals += a.refusals;
  into.replays += a.replays;
  into.errors += a.errors;
  into.billed = (BigInt(into.billed) + BigInt(a.billed)).toString();
  into.hist = into.hist.map((v, i) => v + (a.hist[i] ?? 0));
  into.linkedHist = into.linkedHist.map((v, i) => v + (a.linkedHist[i] ?? 0));
  into.peakHour = Math.max(into.peakHour, a.peakHour);
}

/** Who owns each API, which payers are linked to it, and what each payer did across creators. */
export interface Links {
  isLinked(apiId: string, payer: string): boolean;
  /** Each payer's first countable call (ms), over all shards. */
  firstSeen: Map<string, number>;
  /** Creators each payer made countable calls to, all time (not as one of their linked wallets). */
  creatorsOf: Map<string, Set<string>>;
}

/** `overall`: the merged all-time window (the creators a payer paid are an all-time fact). */
export function resolveLinks(catalog: Catalog, exports: readonly ShardExport[], overall: MergedWindow): Links {
  const ownerOf = new Map<string, string>();
  for (const ex of exports) for (const a of ex.apis) ownerOf.set(a.apiId, a.owner);
  for (const [slug, owner] of catalog.ownerBySlug) ownerOf.set(slug, owner); // D1 wins over events
  const isLinked = (apiId: string, payer: string): boolean => {
    const owner = ownerOf.get(apiId);
    return owner !== undefined && (catalog.linkedByOwner.get(owner)?.has(payer.toLowerCase()) ?? false);
  };

  const firstSeen = new Map<string, number>();
  for (const ex of exports) {
    for (const { payer, ms } of ex.firstSeen) firstSeen.set(payer, Math.min(ms, firstSeen.get(payer) ?? ms));
  }

  const creatorsOf = new Map<string, Set<string>>();
  for (const [apiId, pairs] of overall.pairsByApi) {
    const owner = ownerOf.get(apiId);
    if (owner === undefined) continue;
    for (const p of pairs) {
      if (p.n <= 0 || isLinked(apiId, p.payer)) continue;
      const set = creatorsOf.get(p.payer) ?? new Set<string>();
      set.add(owner);
      creatorsOf.set(p.payer, set);
    }
  }
  return { isLinked, firstSeen, creatorsOf };
}
