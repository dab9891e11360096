// What /explore shows, read from the leaderboard snapshot only (docs/ARCHITECTURE.md §7, §13):
// the same store functions as the JSON API (src/public/snapshot-store.ts), plus one read of the
// per-API breakdown inputs the list entries do not carry (effective payers, attempts).
import type { DirectoryRollup, HeroStats, LeaderboardEntry } from "../../../objects/leaderboard/snapshot-types.ts";
import type { WindowName } from "../../../objects/leaderboard/windows.ts";
import {
  readDirectories,
  readLeaderboard,
  readStats,
  type SnapshotMeta,
} from "../../../objects/leaderboard/snapshot-store.ts";
import { emptyStats } from "../../public/leaderboard.ts";
import type { ApiHealthRow } from "./health.ts";

export const EXPLORE_TOP = 50;
export const EMERGING_TOP = 10;

export interface ExploreQuery {
  window: WindowName;
  q: string | null;
  directory: string | null;
}

export interface ExploreData {
  meta: SnapshotMeta | null;
  stats: HeroStats;
  directories: DirectoryRollup[];
  ranked: LeaderboardEntry[];
  emerging: LeaderboardEntry[];
  totals: { ranked: number; emerging: number };
  directoryKnown: boolean;
  health: ApiHealthRow[];
}

/** Breakdown inputs of every published API for one window (one statement, snapshot table). */
export async function readApiHealth(db: D1Database, window: WindowName): Promise<ApiHealthRow[]> {
  const path = `$.windows.${window}.breakdown`;
  const { results } = await db
    .prepare(
      `SELECT slug, json_extract(body, '$.directory') AS directory, json_extract(body, ?1 || '.attempts') AS attempts,
              json_extract(body, ?1 || '.successes') AS successes,
              json_extract(body, ?1 || '.effectivePayers') AS effective,
              json_extract(body, ?1 || '.weightedPayers') AS weighted
       FROM leaderboard_apis`,
    )
    .bind(path)
    .all<Record<string, unknown>>();
  return results.map((r) => ({
    slug: String(r.slug),
    directory: String(r.directory ?? ""),
    attempts: Number(r.attempts ?? 0),
    successes: Number(r.successes ?? 0),
    effectivePayers: Number(r.effective ?? 0),
    weightedPayers: Number(r.weighted ?? 0),
  }));
}

export async function readExplore(db: D1Database, query: ExploreQuery): Promise<ExploreData> {
  const [board, directories, stats, health] = await Promise.all([
    readLeaderboard(db, { ...query, top: EXPLORE_TOP }),
    readDirectories(db, query.window),
    readStats(db),
    readApiHealth(db, query.window),
  ]);
  return {
    meta: board.meta,
    stats: stats.windows[query.window] ?? emptyStats(),
    directories: directories.items,
    ranked: board.ranked,
    emerging: board.emerging.slice(0, EMERGING_TOP),
    totals: board.totals,
    directoryKnown: board.directoryKnown,
    health,
  };
}
