// The snapshot version as the web pages read it (docs/ARCHITECTURE.md §7, §13): kept per isolate
// for at most META_TTL_MS, so a hot /explore answers from memory instead of one D1 read per
// request. Concurrent requests share one read. A rollup this isolate ran itself (POST
// /__platform/rollup) forgets the kept version at once; a rollup run elsewhere (the coordinator's
// alarm, another isolate) shows within the TTL, far inside the rollup period that Cache-Control
// already lets any client keep a page for.
import { readMeta, type SnapshotMeta } from "../../objects/leaderboard/snapshot-store.ts";

export const META_TTL_MS = 1_000;

interface Kept {
  at: number;
  meta: Promise<SnapshotMeta | null>;
}

// Keyed by the D1 binding, so two environments in one isolate (tests) never share a version.
let kept = new WeakMap<D1Database, Kept>();

export function snapshotMeta(db: D1Database, now = Date.now()): Promise<SnapshotMeta | null> {
  const hit = kept.get(db);
  if (hit && now - hit.at >= 0 && now - hit.at < META_TTL_MS) return hit.meta;
  const entry: Kept = { at: now, meta: readMeta(db) };
  kept.set(db, entry);
  // A failed read is not kept: the next request asks D1 again.
  entry.meta.catch(() => {
    if (kept.get(db) === entry) kept.delete(db);
  });
  return entry.meta;
}

/** After a rollup: the next read asks D1. */
export function forgetSnapshotMeta(): void {
  kept = new WeakMap();
}
