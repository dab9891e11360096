// The snapshot version as the web pages read it (docs/ARCHITECTURE.md §7, §13): kept per isolate
// for at most META_TTL_MS, so a hot /explore answers from memory instead of one D1 read per
// request. What is kept is the value, never the read in progress: a promise made in one request
// and awaited in another breaks when the first one ends (workerd: "Cannot perform I/O on behalf of
// a different request", a 500 seen under load in `npm run bench`), so requests that miss at the
// same moment each read once. A rollup this isolate ran itself (POST /__platform/rollup) forgets
// the kept version at once; a rollup run elsewhere (the coordinator's alarm, another isolate)
// shows within the TTL, far inside the rollup period that Cache-Control already lets any client
// keep a page for.
import { readMeta, type SnapshotMeta } from "../../objects/leaderboard/snapshot-store.ts";

export const META_TTL_MS = 1_000;

interface Kept {
  at: number;
  meta: SnapshotMeta | null;
}

// Keyed by the D1 binding, so two environments in one isolate (tests) never share a version.
let kept = new WeakMap<D1Database, Kept>();

export async function snapshotMeta(db: D1Database, now = Date.now()): Promise<SnapshotMeta | null> {
  const hit = kept.get(db);
  if (hit && now - hit.at >= 0 && now - hit.at < META_TTL_MS) return hit.meta;
  // A failed read throws and keeps nothing: the next request asks D1 again.
  const meta = await readMeta(db);
  kept.set(db, { at: now, meta });
  return meta;
}

/** After a rollup: the next read asks D1. */
export function forgetSnapshotMeta(): void {
  kept = new WeakMap();
}
