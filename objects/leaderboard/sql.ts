// SQL of one Leaderboard shard (its own SQLite, docs/ARCHITECTURE.md §7). Pure strings: ingest.ts,
// dedupe.ts, challenge-keys.ts, shard-export.ts and the Durable Object (leaderboard.ts) run them.
//
//   meta(key PK, value)                           'coordinator' = '1' on the rollup instance;
//                                                 ingest counters 'accepted' | 'duplicates' | 'rejected'
//   seen(api_id, request_id, seen_ms)             dedupe keys; kept DEDUPE_RETENTION_MS after ingest
//   batches(api_id, batch_id, seen_ms)            aggregated batches applied (batch-ingest.ts); kept
//                                                 as long
//   challenge_seen(hour, key)                     challenged requests already counted in
//                                                 api_hours.challenges: the event's epoch hour and
//                                                 a digest of (API, caller, fingerprint)
//                                                 (challenge-keys.ts); pruned by hour
//   apis(api_id PK, owner, directory, last_ts)    what the newest event said about each API
//   api_hours(api_id, hour, events, countable, fails, challenges, refusals, replays, errors,
//             billed, h0..h13)                    everything, per API and epoch hour, kept forever;
//                                                 challenges = distinct challenged requests
//   api_transports(api_id, hour, transport, events, countable)
//                                                 the same events by how they arrived (http | mcp)
//   payer_hours(api_id, payer, hour, n, fails, billed, h0..h13)   PRIMARY KEY (hour, api_id, payer)
//                                                 attempts per (API, caller, hour), kept forever:
//                                                 creator-linked wallets are only known at rollup
//                                                 (and may be registered later), so their share of
//                                                 any hour must stay computable. Hour first:
//                                                 ingest (in time order) writes near the end of
//                                                 the B-tree, so its cost does not grow with the
//                                                 shard; windows are one range scan. (Shards made
//                                                 before keep (api_id, payer, hour) and an index
//                                                 on hour; every statement works on both.)
//   payer_totals(api_id, payer, n, fails, billed, first_ms)
//                                                 the same all time (the overall window without a
//                                                 scan of payer_hours); first_ms = first countable
//   recent_events(seq PK, api_id, ts, body)       the newest RECENT_EVENTS events, for operators
// Money (billed) is a decimal string of atomic units, added with bigint in code, never in SQL:
// an upsert gets the new total, or '0' when the batch moved no money, which keeps the stored one.
// h0..h13 are the latency histogram buckets of objects/shared/histogram.ts (attempts only).
import { LATENCY_BUCKETS } from "../shared/histogram.ts";

export const HIST = Array.from({ length: LATENCY_BUCKETS }, (_, i) => `h${i}`);
const histDefs = HIST.map((c) => `${c} INTEGER NOT NULL DEFAULT 0`).join(", ");
const histAdd = HIST.map((c) => `${c} = ${c} + excluded.${c}`).join(", ");
const histSum = (alias = "") => HIST.map((c) => `SUM(${alias}${c}) AS ${c}`).join(", ");

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seen (api_id TEXT NOT NULL, request_id TEXT NOT NULL, seen_ms INTEGER NOT NULL, PRIMARY KEY (api_id, request_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seen_by_time ON seen (seen_ms);
CREATE TABLE IF NOT EXISTS batches (api_id TEXT NOT NULL, batch_id TEXT NOT NULL, seen_ms INTEGER NOT NULL, PRIMARY KEY (api_id, batch_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS batches_by_time ON batches (seen_ms);
CREATE TABLE IF NOT EXISTS challenge_seen (hour INTEGER NOT NULL, key TEXT NOT NULL, PRIMARY KEY (hour, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS apis (api_id TEXT PRIMARY KEY, owner TEXT NOT NULL, directory TEXT NOT NULL, last_ts INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS api_hours (
  api_id TEXT NOT NULL, hour INTEGER NOT NULL,
  events INTEGER NOT NULL DEFAULT 0, countable INTEGER NOT NULL DEFAULT 0, fails INTEGER NOT NULL DEFAULT 0,
  challenges INTEGER NOT NULL DEFAULT 0, refusals INTEGER NOT NULL DEFAULT 0, replays INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0, billed TEXT NOT NULL DEFAULT '0', ${histDefs},
  PRIMARY KEY (api_id, hour)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS api_hours_by_hour ON api_hours (hour);
CREATE TABLE IF NOT EXISTS api_transports (
  api_id TEXT NOT NULL, hour INTEGER NOT NULL, transport TEXT NOT NULL,
  events INTEGER NOT NULL DEFAULT 0, countable INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (api_id, hour, transport)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS payer_hours (
  api_id TEXT NOT NULL, payer TEXT NOT NULL, hour INTEGER NOT NULL,
  n INTEGER NOT NULL DEFAULT 0, fails INTEGER NOT NULL DEFAULT 0, billed TEXT NOT NULL DEFAULT '0', ${histDefs},
  PRIMARY KEY (hour, api_id, payer)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS payer_totals (
  api_id TEXT NOT NULL, payer TEXT NOT NULL,
  n INTEGER NOT NULL DEFAULT 0, fails INTEGER NOT NULL DEFAULT 0, billed TEXT NOT NULL DEFAULT '0', first_ms INTEGER,
  PRIMARY KEY (api_id, payer)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS recent_events (seq INTEGER PRIMARY KEY, api_id TEXT NOT NULL, ts INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS recent_events_by_api ON recent_events (api_id, seq);
`;

// ---- ingest -------------------------------------------------------------------------------
// Every ingest statement takes the whole batch as one JSON array (json_each), so a batch costs a
// fixed handful of statements whatever its size: per-statement overhead, not data, was what
// dominated ingest (BENCHMARKS.md). `WHERE …` after json_each resolves SQLite's ON-clause
// ambiguity of INSERT … SELECT … ON CONFLICT. Rows insert in order, so a key repeated inside one
// batch comes back from RETURNING once.

/** `j.value` element i of a JSON array row. */
const at = (i: number) => `json_extract(j.value, '$[${i}]')`;
const ats = (n: number) => Array.from({ length: n }, (_, i) => at(i)).join(", ");

/** The dedupe check and the key insert of a whole batch: [[apiId, requestId], ...] in, the new keys out. */
export const SEEN_INSERT_BATCH = `INSERT INTO seen (api_id, request_id, seen_ms)
SELECT ${at(0)}, ${at(1)}, ? FROM json_each(?) AS j WHERE true
ON CONFLICT DO NOTHING RETURNING api_id, request_id`;

/** Claims challenged requests: [[hour, digest], ...] in, the new keys out. */
export const CHALLENGE_CLAIM_BATCH = `INSERT INTO challenge_seen (hour, key)
SELECT ${ats(2)} FROM json_each(?) AS j WHERE true
ON CONFLICT DO NOTHING RETURNING hour, key`;

// Money: the stored billed of the rows a batch adds money to, read in one statement per table
// (keys as one JSON array; `i` is a key's index in it), added with bigint in code, and written
// back as the new total.
export const API_HOUR_BILLED = `SELECT j.key AS i, a.billed AS billed FROM json_each(?) AS j
JOIN api_hours AS a ON a.api_id = ${at(0)} AND a.hour = ${at(1)}`;
export const PAYER_HOUR_BILLED = `SELECT j.key AS i, p.billed AS billed FROM json_each(?) AS j
JOIN payer_hours AS p ON p.api_id = ${at(0)} AND p.payer = ${at(1)} AND p.hour = ${at(2)}`;
export const PAYER_TOTAL_BILLED = `SELECT j.key AS i, t.billed AS billed FROM json_each(?) AS j
JOIN payer_totals AS t ON t.api_id = ${at(0)} AND t.payer = ${at(1)}`;

const keepBilled = "billed = CASE WHEN excluded.billed = '0' THEN billed ELSE excluded.billed END";

/** Rows [apiId, hour, events, countable, fails, challenges, refusals, replays, errors, billed, h0..h13]. */
export const API_HOURS_UPSERT = `INSERT INTO api_hours (api_id, hour, events, countable, fails, challenges, refusals, replays, errors, billed, ${HIST.join(", ")})
SELECT ${ats(10 + HIST.length)} FROM json_each(?) AS j WHERE true
ON CONFLICT (api_id, hour) DO UPDATE SET events = events + excluded.events, countable = countable + excluded.countable,
  fails = fails + excluded.fails, challenges = challenges + excluded.challenges, refusals = refusals + excluded.refusals,
  replays = replays + excluded.replays, errors = errors + excluded.errors, ${keepBilled}, ${histAdd}`;

/** Rows [apiId, hour, transport, events, countable]. */
export const API_TRANSPORTS_UPSERT = `INSERT INTO api_transports (api_id, hour, transport, events, countable)
SELECT ${ats(5)} FROM json_each(?) AS j WHERE true
ON CONFLICT (api_id, hour, transport) DO UPDATE SET events = events + excluded.events,
  countable = countable + excluded.countable`;

/** Rows [apiId, payer, hour, n, fails, billed, h0..h13]. */
export const PAYER_HOURS_UPSERT = `INSERT INTO payer_hours (api_id, payer, hour, n, fails, billed, ${HIST.join(", ")})
SELECT ${ats(6 + HIST.length)} FROM json_each(?) AS j WHERE true
ON CONFLICT (hour, api_id, payer) DO UPDATE SET n = n + excluded.n, fails = fails + excluded.fails, ${keepBilled}, ${histAdd}`;

/** Rows [apiId, payer, n, fails, billed, firstMs | null]. */
export const PAYER_TOTALS_UPSERT = `INSERT INTO payer_totals (api_id, payer, n, fails, billed, first_ms)
SELECT ${ats(6)} FROM json_each(?) AS j WHERE true
ON CONFLICT (api_id, payer) DO UPDATE SET n = n + excluded.n, fails = fails + excluded.fails, ${keepBilled},
  first_ms = CASE WHEN excluded.first_ms IS NOT NULL AND (first_ms IS NULL OR excluded.first_ms < first_ms) THEN excluded.first_ms ELSE first_ms END`;

/** Rows [apiId, owner, directory, ts]. */
export const API_META_UPSERT = `INSERT INTO apis (api_id, owner, directory, last_ts)
SELECT ${ats(4)} FROM json_each(?) AS j WHERE true
ON CONFLICT (api_id) DO UPDATE SET owner = excluded.owner, directory = excluded.directory, last_ts = excluded.last_ts
WHERE excluded.last_ts >= apis.last_ts`;

/** A JSON array of events in, one row each (the element's JSON text is the body). */
export const RECENT_INSERT_BATCH = `INSERT INTO recent_events (api_id, ts, body)
SELECT json_extract(value, '$.apiId'), json_extract(value, '$.ts'), value FROM json_each(?)`;
/** Keeps the newest ? rows: a range delete on the rowid, run after every insert. */
export const RECENT_TRIM = "DELETE FROM recent_events WHERE seq <= (SELECT MAX(seq) FROM recent_events) - ?";

export const COUNTER_ADD =
  "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + CAST(excluded.value AS INTEGER) AS TEXT)";

// ---- export (rollup) ----------------------------------------------------------------------
// Windows are [fromHour, toHour). Linked pairs come in as one JSON array [[apiId, payer], ...]
// (json_each), so the statement is the same whatever their number. billed is returned as a
// comma list of the non-zero values (group_concat) and summed with bigint by the caller.

export const PAIRS_IN_RANGE = `SELECT api_id, payer, SUM(n) AS n, SUM(fails) AS fails, group_concat(NULLIF(billed, '0')) AS billed
FROM payer_hours WHERE hour >= ? AND hour < ? GROUP BY api_id, payer`;

export const PAIRS_ALL_TIME = "SELECT api_id, payer, n, fails, NULLIF(billed, '0') AS billed FROM payer_totals";

export const API_TOTALS_IN_RANGE = `SELECT api_id, SUM(events) AS events, SUM(countable) AS countable, SUM(fails) AS fails,
  SUM(challenges) AS challenges, SUM(refusals) AS refusals, SUM(replays) AS replays, SUM(errors) AS errors,
  group_concat(NULLIF(billed, '0')) AS billed, ${histSum()}
FROM api_hours WHERE hour >= ? AND hour < ? GROUP BY api_id`;

// The creator-linked pairs: the window is scanned once (hour-first key) and each row checked
// against the pairs (an IN list SQLite indexes once), never one window scan per pair.
const LINKED_PAIRS = "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)";
const LINKED_IN = `(p.api_id, p.payer) IN (${LINKED_PAIRS})`;

/** Latency histogram of the creator-linked callers, per API (subtracted from API totals). */
export const LINKED_HIST_IN_RANGE = `SELECT p.api_id AS api_id, ${histSum("p.")}
FROM payer_hours AS p WHERE ${LINKED_IN} AND p.hour >= ? AND p.hour < ? GROUP BY p.api_id`;

/** Busiest hour per API counting only callers that are not creator-linked. */
export const PEAK_HOUR_IN_RANGE = `WITH l AS (
  SELECT p.api_id AS api_id, p.hour AS hour, SUM(p.n) AS n FROM payer_hours AS p
  WHERE ${LINKED_IN} AND p.hour >= ? AND p.hour < ? GROUP BY p.api_id, p.hour
)
SELECT a.api_id AS api_id, MAX(a.countable - COALESCE(l.n, 0)) AS peak
FROM api_hours AS a LEFT JOIN l ON l.api_id = a.api_id AND l.hour = a.hour
WHERE a.hour >= ? AND a.hour < ? GROUP BY a.api_id`;

export const FIRST_SEEN =
  "SELECT payer, MIN(first_ms) AS first_ms FROM payer_totals WHERE first_ms IS NOT NULL GROUP BY payer";
export const API_META_ALL = "SELECT api_id, owner, directory FROM apis";

// ---- housekeeping and operator reads ------------------------------------------------------

export const SEEN_PRUNE = "DELETE FROM seen WHERE seen_ms < ?";
export const BATCHES_PRUNE = "DELETE FROM batches WHERE seen_ms < ?";
/** Challenge keys of the hours before ? (an epoch hour). */
export const CHALLENGE_KEYS_PRUNE = "DELETE FROM challenge_seen WHERE hour < ?";
/** Claims one batch id: a row back means it is new. */
export const BATCH_CLAIM =
  "INSERT INTO batches (api_id, batch_id, seen_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING batch_id";
export const RECENT_ALL = "SELECT seq, body FROM recent_events WHERE seq < ? ORDER BY seq DESC LIMIT ?";
export const RECENT_FOR_API =
  "SELECT seq, body FROM recent_events WHERE api_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?";
/** Events and countable calls per transport of one API in [fromHour, toHour) (operator reads, tests). */
export const TRANSPORTS_IN_RANGE = `SELECT transport, SUM(events) AS events, SUM(countable) AS countable
FROM api_transports WHERE api_id = ? AND hour >= ? AND hour < ? GROUP BY transport`;
export const COUNTERS = "SELECT key, value FROM meta WHERE key IN ('accepted', 'duplicates', 'rejected')";
