// The D1 snapshot tables (migrations/0003_leaderboard.sql, docs/ARCHITECTURE.md §7): the only
// place that writes them (the rollup coordinator) or reads them (the public API, src/public/).
// A rollup replaces every snapshot row and bumps the version in ONE D1 batch (a transaction):
// readers see the old snapshot or the new one, never a mix. Rows travel as JSON arrays expanded
// by json_each, so a snapshot of any size is a handful of statements (chunked under D1's
// per-value size limit).
//
// A rollup whose content is byte-identical to the stored one (same hash) writes nothing and keeps
// the version, so ETags stay valid and an idle platform costs no D1 writes.
import type { ApiDetail, DirectoryRollup, HeroStats, LeaderboardEntry, Snapshot } from "./snapshot-types.ts";
import { WINDOWS, type WindowName } from "./windows.ts";

export interface SnapshotMeta {
  version: number;
  asOf: number;
  periodSeconds: number;
}

export interface WriteResult {
  version: number;
  changed: boolean;
  hash: string;
}

/** Stay well under D1's 2 MB per bound value. */
const CHUNK_CHARS = 512 * 1024;

const x = (i: number) => `json_extract(value, '$[${i}]')`;
const INSERT_ENTRIES = `INSERT INTO leaderboard_entries (win, slug, directory, rank, position, search, body)
SELECT ${[0, 1, 2, 3, 4, 5, 6].map(x).join(", ")} FROM json_each(?)`;
const INSERT_DIRECTORIES = `INSERT INTO leaderboard_directories (win, directory, body) SELECT ${[0, 1, 2].map(x).join(", ")} FROM json_each(?)`;
const INSERT_STATS = `INSERT INTO leaderboard_stats (win, body) SELECT ${[0, 1].map(x).join(", ")} FROM json_each(?)`;
const INSERT_APIS = `INSERT INTO leaderboard_apis (slug, discoverable, position, body) SELECT ${[0, 1, 2, 3].map(x).join(", ")} FROM json_each(?)`;
const UPSERT_META = `INSERT INTO leaderboard_meta (id, version, as_of, content_hash, period_seconds) VALUES (1, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET version = excluded.version, as_of = excluded.as_of, content_hash = excluded.content_hash, period_seconds = excluded.period_seconds`;
const META = "SELECT version, as_of, period_seconds FROM leaderboard_meta WHERE id = 1";

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** JSON arrays of rows, each under CHUNK_CHARS (a single huge row still goes alone). */
function chunks(rows: readonly unknown[][]): string[] {
  const out: string[] = [];
  let current: string[] = [];
  let size = 0;
  for (const row of rows) {
    const text = JSON.stringify(row);
    if (current.length > 0 && size + text.length > CHUNK_CHARS) {
      out.push(`[${current.join(",")}]`);
      current = [];
      size = 0;
    }
    current.push(text);
    size += text.length + 1;
  }
  if (current.length > 0) out.push(`[${current.join(",")}]`);
  return out;
}

export function snapshotRows(snapshot: Snapshot) {
  const entries: unknown[][] = [];
  const directories: unknown[][] = [];
  const stats: unknown[][] = [];
  for (const w of WINDOWS) {
    const win = snapshot.windows[w];
    win.entries.forEach((e, i) =>
      entries.push([
        w,
        e.slug,
        e.directory,
        e.rank,
        i,
        `${e.slug} ${e.directory} ${e.description}`.toLowerCase(),
        JSON.stringify(e),
      ]),
    );
    for (const d of win.directories) directories.push([w, d.directory, JSON.stringify(d)]);
    stats.push([w, JSON.stringify(win.stats)]);
  }
  const apis = snapshot.apis.map((a, i) => [a.slug, a.paid && a.accepts.length > 0 ? 1 : 0, i, JSON.stringify(a)]);
  return { entries, directories, stats, apis };
}

export async function writeSnapshot(
  db: D1Database,
  snapshot: Snapshot,
  now: number,
  periodSeconds: number,
): Promise<WriteResult> {
  const rows = snapshotRows(snapshot);
  const hash = await sha256Hex(JSON.stringify(rows));
  const current = await db
    .prepare("SELECT version, content_hash FROM leaderboard_meta WHERE id = 1")
    .first<{ version: number; content_hash: string }>();
  if (current && current.content_hash === hash) return { version: current.version, changed: false, hash };
  const version = (current?.version ?? 0) + 1;
  const insert = (sql: string, list: unknown[][]) => chunks(list).map((json) => db.prepare(sql).bind(json));
  await db.batch([
    db.prepare("DELETE FROM leaderboard_entries"),
    db.prepare("DELETE FROM leaderboard_directories"),
    db.prepare("DELETE FROM leaderboard_stats"),
    db.prepare("DELETE FROM leaderboard_apis"),
    ...insert(INSERT_ENTRIES, rows.entries),
    ...insert(INSERT_DIRECTORIES, rows.directories),
    ...insert(INSERT_STATS, rows.stats),
    ...insert(INSERT_APIS, rows.apis),
    db.prepare(UPSERT_META).bind(version, now, hash, periodSeconds),
  ]);
  return { version, changed: true, hash };
}

// ---- reads ---------------------------------------------------------------------------------

function toMeta(row: Record<string, unknown> | undefined): SnapshotMeta | null {
  if (!row) return null;
  return { version: Number(row.version), asOf: Number(row.as_of), periodSeconds: Number(row.period_seconds) };
}

function bodies<T>(result: D1Result | undefined): T[] {
  return ((result?.results ?? []) as { body: string }[]).map((r) => JSON.parse(r.body) as T);
}

export async function readMeta(db: D1Database): Promise<SnapshotMeta | null> {
  return toMeta((await db.prepare(META).first()) ?? undefined);
}

export interface LeaderboardQuery {
  window: WindowName;
  top: number;
  directory: string | null;
  q: string | null;
}

export interface LeaderboardRead {
  meta: SnapshotMeta | null;
  ranked: LeaderboardEntry[];
  emerging: LeaderboardEntry[];
  totals: { ranked: number; emerging: number };
  directoryKnown: boolean;
}

const FILTER = "win = ?1 AND (?2 IS NULL OR directory = ?2) AND (?3 IS NULL OR instr(search, ?3) > 0)";

export async function readLeaderboard(db: D1Database, query: LeaderboardQuery): Promise<LeaderboardRead> {
  const args = [query.window, query.directory, query.q?.toLowerCase() ?? null];
  const [meta, ranked, emerging, totals, directory] = await db.batch([
    db.prepare(META),
    db
      .prepare(`SELECT body FROM leaderboard_entries WHERE ${FILTER} AND rank IS NOT NULL ORDER BY position LIMIT ?4`)
      .bind(...args, query.top),
    db
      .prepare(`SELECT body FROM leaderboard_entries WHERE ${FILTER} AND rank IS NULL ORDER BY position LIMIT ?4`)
      .bind(...args, query.top),
    db
      .prepare(
        `SELECT COUNT(rank) AS ranked, COUNT(*) - COUNT(rank) AS emerging FROM leaderboard_entries WHERE ${FILTER}`,
      )
      .bind(...args),
    db.prepare("SELECT COUNT(*) AS n FROM leaderboard_directories WHERE directory = ?").bind(query.directory ?? ""),
  ]);
  const t = (totals?.results?.[0] ?? {}) as { ranked?: number; emerging?: number };
  return {
    meta: toMeta(meta?.results?.[0] as Record<string, unknown> | undefined),
    ranked: bodies<LeaderboardEntry>(ranked),
    emerging: bodies<LeaderboardEntry>(emerging),
    totals: { ranked: Number(t.ranked ?? 0), emerging: Number(t.emerging ?? 0) },
    directoryKnown:
      query.directory === null || Number((directory?.results?.[0] as { n?: number } | undefined)?.n ?? 0) > 0,
  };
}

export async function readApi(
  db: D1Database,
  slug: string,
): Promise<{ meta: SnapshotMeta | null; api: ApiDetail | null }> {
  const [meta, api] = await db.batch([
    db.prepare(META),
    db.prepare("SELECT body FROM leaderboard_apis WHERE slug = ?").bind(slug),
  ]);
  return {
    meta: toMeta(meta?.results?.[0] as Record<string, unknown> | undefined),
    api: bodies<ApiDetail>(api)[0] ?? null,
  };
}

export async function readDirectories(
  db: D1Database,
  window: WindowName,
): Promise<{ meta: SnapshotMeta | null; items: DirectoryRollup[] }> {
  const [meta, rows] = await db.batch([
    db.prepare(META),
    db.prepare("SELECT body FROM leaderboard_directories WHERE win = ? ORDER BY directory").bind(window),
  ]);
  return {
    meta: toMeta(meta?.results?.[0] as Record<string, unknown> | undefined),
    items: bodies<DirectoryRollup>(rows),
  };
}

export async function readStats(
  db: D1Database,
): Promise<{ meta: SnapshotMeta | null; windows: Partial<Record<WindowName, HeroStats>> }> {
  const [meta, rows] = await db.batch([db.prepare(META), db.prepare("SELECT win, body FROM leaderboard_stats")]);
  const windows: Partial<Record<WindowName, HeroStats>> = {};
  for (const r of (rows?.results ?? []) as { win: WindowName; body: string }[])
    windows[r.win] = JSON.parse(r.body) as HeroStats;
  return { meta: toMeta(meta?.results?.[0] as Record<string, unknown> | undefined), windows };
}

export async function readDiscoverable(
  db: D1Database,
  limit: number,
  offset: number,
): Promise<{ meta: SnapshotMeta | null; items: ApiDetail[]; total: number }> {
  const [meta, rows, total] = await db.batch([
    db.prepare(META),
    db
      .prepare("SELECT body FROM leaderboard_apis WHERE discoverable = 1 ORDER BY position LIMIT ? OFFSET ?")
      .bind(limit, offset),
    db.prepare("SELECT COUNT(*) AS n FROM leaderboard_apis WHERE discoverable = 1"),
  ]);
  return {
    meta: toMeta(meta?.results?.[0] as Record<string, unknown> | undefined),
    items: bodies<ApiDetail>(rows),
    total: Number((total?.results?.[0] as { n?: number } | undefined)?.n ?? 0),
  };
}
