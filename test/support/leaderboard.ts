// Helpers shared by the Leaderboard DO tests: fresh instances, events around a fixed NOW, hand-made catalogs.
// Time: events are stamped around NOW, a fixed noon three years ahead; the DO's own clock is the real one.

import { env } from "cloudflare:workers";
import type { Leaderboard } from "../../objects/leaderboard/leaderboard.ts";
import { buildSnapshot } from "../../objects/leaderboard/snapshot.ts";
import { linkedPairs } from "../../objects/leaderboard/snapshot-merge.ts";
import type { Catalog, CatalogApi, LeaderboardEntry, Snapshot } from "../../objects/leaderboard/snapshot-types.ts";
import type { UsageEvent } from "../../objects/shared/usage-event.ts";
import { windowRanges, type WindowName } from "../../objects/leaderboard/windows.ts";
import { usageEvent } from "./usage-events.ts";

export const YEAR = new Date().getUTCFullYear() + 3;
export const NOW = Date.UTC(YEAR, 5, 10, 12, 0, 0);
export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export let counter = 0;
export function instance(): { name: string; stub: DurableObjectStub<Leaderboard> } {
  const name = `lb-test-${++counter}-${crypto.randomUUID().slice(0, 8)}`;
  return { name, stub: env.LEADERBOARD.get(env.LEADERBOARD.idFromName(name)) };
}

export function addr(tag: string, i: number): string {
  const hex = [...`${tag}-${i}`].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
  return `0x${hex.padEnd(40, "0").slice(0, 40)}`;
}

export function ev(apiId: string, caller: string, ts: number, over: Partial<UsageEvent> = {}): UsageEvent {
  return usageEvent({ apiId, owner: `cr_${apiId}`, caller, ts, ...over });
}

export async function ingestAll(
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

export function api(slug: string, over: Partial<CatalogApi> = {}): CatalogApi {
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

export function catalog(apis: CatalogApi[], linked: Record<string, string[]> = {}): Catalog {
  const linkedByOwner = new Map<string, Set<string>>();
  for (const a of apis)
    if (a.payTo) linkedByOwner.set(a.owner, new Set([...(linkedByOwner.get(a.owner) ?? []), a.payTo]));
  for (const [owner, list] of Object.entries(linked))
    linkedByOwner.set(owner, new Set([...(linkedByOwner.get(owner) ?? []), ...list.map((a) => a.toLowerCase())]));
  return { apis, linkedByOwner, ownerBySlug: new Map(apis.map((a) => [a.slug, a.owner])) };
}

export async function snapshotOf(stub: DurableObjectStub<Leaderboard>, cat: Catalog, now = NOW): Promise<Snapshot> {
  const ex = await stub.exportWindows({
    shard: "test",
    ranges: windowRanges(now),
    linked: JSON.stringify(linkedPairs(cat)),
  });
  return buildSnapshot(cat, [ex], now);
}

export function entry(snap: Snapshot, window: WindowName, slug: string): LeaderboardEntry {
  const e = snap.windows[window].entries.find((x) => x.slug === slug);
  if (!e) throw new Error(`${slug} not in ${window}`);
  return e;
}
