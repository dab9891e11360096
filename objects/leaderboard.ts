// Leaderboard: a SQLite-backed Durable Object with two roles (DESIGN §7).
//
// Shard (`shard-<n>`, see leaderboard-shards.ts): `ingest` receives usage events from the
// TenantMeter outboxes (at least once), dedupes them by (apiId, requestId) and folds them into
// per-hour aggregates (leaderboard-events.ts, schema in leaderboard-sql.ts). A call is
// synchronous from its first read to its last write inside one transactionSync, so a batch is
// recorded whole or not at all: if the object dies mid-call the producer's retry finds no key
// and records it once; if it dies after, the retry finds every key and records nothing.
// `exportWindows` hands the aggregates of each window to the coordinator.
//
// Coordinator (`rollup`): its alarm runs every ROLLUP_PERIOD_SECONDS (default 60): it reads the
// catalog from D1 (published APIs, creator-linked wallets), pulls every shard's export by RPC,
// scores (snapshot.ts, scoring.ts) and writes the snapshot into D1 in one batch. Once started it
// keeps running (an unchanged snapshot writes nothing). `rollup()` forces one now (POST
// /__platform/rollup); rollups never overlap.
//
// Who starts the coordinator: a shard's alarm, one second after an ingest, calls `kick()` (at
// most every KICK_EVERY_MS per shard, and again after every restart), so the coordinator needs
// no configuration and survives losing its alarm. Shard alarms also prune dedupe keys older
// than DEDUPE_RETENTION_MS (by ingest time). Raw events are trimmed to the newest RECENT_EVENTS
// on every ingest.
import { DurableObject } from "cloudflare:workers";
import * as v from "valibot";
import { UsageEventSchema, type UsageEvent } from "./usage-event.ts";
import { aggregateBatch, type BatchAggregates } from "./leaderboard-events.ts";
import * as SQL from "./leaderboard-sql.ts";
import { buildSnapshot, linkedPairs, sumBilledList, type ApiWindowRow, type PairRow, type ShardExport, type WindowExport } from "./snapshot.ts";
import { windowRanges, type WindowName, type WindowRange } from "./windows.ts";
import { leaderboardNamed, rollupCoordinator, rollupPeriodSeconds, shardCount, shardNames } from "./leaderboard-shards.ts";
import { addAtomic } from "./shared/money.ts";
import { DAY_MS, HOUR_MS } from "./shared/time.ts";
import { loadCatalog } from "../src/public/catalog.ts";
import { writeSnapshot } from "../src/public/snapshot-store.ts";

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: number;
}

export interface RollupResult {
  version: number;
  changed: boolean;
  asOf: number;
  durationMs: number;
  apis: number;
  shards: number;
}

export interface ExportRequest {
  shard: string;
  ranges: WindowRange[];
  /** JSON array of [apiId, lowercase address] pairs that are creator-linked. */
  linked: string;
}

export interface RecentEvents {
  items: UsageEvent[];
  counters: IngestResult;
}

/** Larger batches are refused (RangeError) so one call stays well inside a DO's CPU budget. */
export const MAX_INGEST_BATCH = 1000;
/** Dedupe keys are kept this long after ingest: redeliveries within it are always caught. */
export const DEDUPE_RETENTION_MS = 9 * DAY_MS;
const RECENT_EVENTS = 10_000;
const PRUNE_EVERY_MS = HOUR_MS;
const KICK_EVERY_MS = 10 * 60_000;
const KICK_DELAY_MS = 1000;
const KICK_RETRY_MS = 30_000;

export class Leaderboard extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private coordinator: boolean;
  /** Mirror of the scheduled alarm, so synchronous ingest can decide without getAlarm(). */
  private alarmAt: number | null = null;
  private lastKickAt = 0;
  private rollupChain: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SQL.SCHEMA);
    this.coordinator = this.sql.exec("SELECT 1 FROM meta WHERE key = 'coordinator'").toArray().length > 0;
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  // -------------------------------------------------------------------------------------------
  // shard: ingest (synchronous, one transaction)

  ingest(events: unknown[]): IngestResult {
    if (!Array.isArray(events)) throw new TypeError("ingest expects an array of usage events");
    if (events.length > MAX_INGEST_BATCH) throw new RangeError(`ingest takes at most ${MAX_INGEST_BATCH} events per call; got ${events.length}`);
    const now = Date.now();
    const valid: UsageEvent[] = [];
    let rejected = 0;
    for (const raw of events) {
      const parsed = v.safeParse(UsageEventSchema, raw);
      if (parsed.success) valid.push(parsed.output);
      else rejected += 1;
    }
    const result = this.ctx.storage.transactionSync(() => {
      const fresh = this.claimKeys(valid, now);
      this.writeAggregates(aggregateBatch(fresh));
      if (fresh.length > 0) {
        this.sql.exec(SQL.RECENT_INSERT_BATCH, JSON.stringify(fresh));
        this.sql.exec(SQL.RECENT_TRIM, RECENT_EVENTS);
      }
      const counts: IngestResult = { accepted: fresh.length, duplicates: valid.length - fresh.length, rejected };
      for (const [key, n] of Object.entries(counts)) if (n > 0) this.sql.exec(SQL.COUNTER_ADD, key, String(n));
      return counts;
    });
    if (result.accepted > 0) this.scheduleAlarm(now - this.lastKickAt >= KICK_EVERY_MS ? now + KICK_DELAY_MS : now + PRUNE_EVERY_MS);
    return result;
  }

  /** Inserts the dedupe keys of `events`; returns the events whose key was new (first copy only). */
  private claimKeys(events: UsageEvent[], now: number): UsageEvent[] {
    if (events.length === 0) return [];
    const keyOf = (apiId: string, requestId: string) => `${apiId}\u0000${requestId}`;
    const claimed = new Set<string>();
    const rows = this.sql.exec<{ api_id: string; request_id: string }>(SQL.SEEN_INSERT_BATCH, now, JSON.stringify(events.map((e) => [e.apiId, e.requestId])));
    for (const r of rows) claimed.add(keyOf(r.api_id, r.request_id));
    const fresh: UsageEvent[] = [];
    for (const e of events) {
      const key = keyOf(e.apiId, e.requestId);
      if (claimed.delete(key)) fresh.push(e); // delete: a second copy in the batch is a duplicate
    }
    return fresh;
  }

  private writeAggregates(agg: BatchAggregates): void {
    // billed is the new total when money moved, "0" to keep the stored one (see the upserts).
    const total = (sql: string, delta: string, ...key: (string | number)[]): string => {
      if (delta === "0") return "0";
      const current = this.sql.exec<{ billed: string }>(sql, ...key).toArray()[0]?.billed ?? "0";
      return addAtomic(current, delta);
    };
    for (const a of agg.apiHours) {
      const billed = total(SQL.API_HOUR_BILLED, a.billed, a.apiId, a.hour);
      this.sql.exec(SQL.API_HOUR_UPSERT, a.apiId, a.hour, a.events, a.countable, a.fails, a.challenges, a.refusals, a.replays, a.errors, billed, ...a.hist);
    }
    for (const p of agg.payerHours) {
      const billed = total(SQL.PAYER_HOUR_BILLED, p.billed, p.apiId, p.payer, p.hour);
      this.sql.exec(SQL.PAYER_HOUR_UPSERT, p.apiId, p.payer, p.hour, p.n, p.fails, billed, ...p.hist);
    }
    for (const t of agg.payerTotals) {
      const billed = total(SQL.PAYER_TOTAL_BILLED, t.billed, t.apiId, t.payer);
      this.sql.exec(SQL.PAYER_TOTAL_UPSERT, t.apiId, t.payer, t.n, t.fails, billed, t.firstMs);
    }
    for (const m of agg.apis) this.sql.exec(SQL.API_META_UPSERT, m.apiId, m.owner, m.directory, m.ts);
  }

  // -------------------------------------------------------------------------------------------
  // shard: export (synchronous: one consistent view of this shard)

  exportWindows(req: ExportRequest): ShardExport {
    const windows = {} as Record<WindowName, WindowExport>;
    for (const r of req.ranges) windows[r.name] = this.exportWindow(r, req.linked);
    return {
      shard: req.shard,
      apis: this.sql.exec<{ api_id: string; owner: string; directory: string }>(SQL.API_META_ALL).toArray().map((r) => ({ apiId: r.api_id, owner: r.owner, directory: r.directory })),
      firstSeen: this.sql.exec<{ payer: string; first_ms: number }>(SQL.FIRST_SEEN).toArray().map((r) => ({ payer: r.payer, ms: r.first_ms })),
      windows,
    };
  }

  private exportWindow(r: WindowRange, linked: string): WindowExport {
    type PairSql = { api_id: string; payer: string; n: number; fails: number; billed: string | null };
    const pairRows = r.name === "overall" ? this.sql.exec<PairSql>(SQL.PAIRS_ALL_TIME) : this.sql.exec<PairSql>(SQL.PAIRS_IN_RANGE, r.fromHour, r.toHour);
    const pairs: PairRow[] = pairRows.toArray().map((p) => ({ apiId: p.api_id, payer: p.payer, n: p.n, fails: p.fails, billed: sumBilledList(p.billed) }));
    const histOf = (row: Record<string, SqlStorageValue>) => SQL.HIST.map((c) => Number(row[c] ?? 0));
    const linkedHist = new Map<string, number[]>();
    for (const row of this.sql.exec(SQL.LINKED_HIST_IN_RANGE, linked, r.fromHour, r.toHour)) linkedHist.set(String(row.api_id), histOf(row));
    const peaks = new Map<string, number>();
    for (const row of this.sql.exec(SQL.PEAK_HOUR_IN_RANGE, linked, r.fromHour, r.toHour, r.fromHour, r.toHour)) peaks.set(String(row.api_id), Math.max(0, Number(row.peak ?? 0)));
    const apis: ApiWindowRow[] = [];
    for (const row of this.sql.exec(SQL.API_TOTALS_IN_RANGE, r.fromHour, r.toHour)) {
      const apiId = String(row.api_id);
      apis.push({
        apiId,
        events: Number(row.events),
        countable: Number(row.countable),
        fails: Number(row.fails),
        challenges: Number(row.challenges),
        refusals: Number(row.refusals),
        replays: Number(row.replays),
        errors: Number(row.errors),
        billed: sumBilledList(row.billed as string | null),
        hist: histOf(row),
        linkedHist: linkedHist.get(apiId) ?? SQL.HIST.map(() => 0),
        peakHour: peaks.get(apiId) ?? 0,
      });
    }
    return { pairs, apis };
  }

  /** Newest raw events of this shard (operator debugging), optionally of one API. */
  recentEvents(req: { apiId?: string; limit: number }): RecentEvents {
    const limit = Math.max(1, Math.min(1000, Math.floor(req.limit) || 100));
    const rows = req.apiId
      ? this.sql.exec<{ body: string }>(SQL.RECENT_FOR_API, req.apiId, Number.MAX_SAFE_INTEGER, limit)
      : this.sql.exec<{ body: string }>(SQL.RECENT_ALL, Number.MAX_SAFE_INTEGER, limit);
    const counters: IngestResult = { accepted: 0, duplicates: 0, rejected: 0 };
    for (const c of this.sql.exec<{ key: keyof IngestResult; value: string }>(SQL.COUNTERS)) counters[c.key] = Number(c.value);
    return { items: rows.toArray().map((r) => JSON.parse(r.body) as UsageEvent), counters };
  }

  // -------------------------------------------------------------------------------------------
  // coordinator

  /** Starts the periodic rollup if it is not running (idempotent, cheap). */
  async kick(): Promise<void> {
    this.becomeCoordinator();
    // The stored alarm, not the mirror, decides: a lost alarm must be re-armed by the next kick.
    this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt === null) this.scheduleAlarm(Date.now() + rollupPeriodSeconds(this.env) * 1000);
  }

  /** Rolls up now (after any rollup in progress) and returns what was written. */
  rollup(now?: number): Promise<RollupResult> {
    this.becomeCoordinator();
    if (this.alarmAt === null) this.scheduleAlarm(Date.now() + rollupPeriodSeconds(this.env) * 1000);
    const at = typeof now === "number" && Number.isFinite(now) ? now : Date.now();
    const run = this.rollupChain.then(() => this.runRollup(at));
    this.rollupChain = run.catch(() => undefined);
    return run;
  }

  private async runRollup(now: number): Promise<RollupResult> {
    const started = Date.now();
    const period = rollupPeriodSeconds(this.env);
    const catalog = await loadCatalog(this.env.DB);
    const request = { ranges: windowRanges(now), linked: JSON.stringify(linkedPairs(catalog)) };
    const names = shardNames(shardCount(this.env));
    const exports = (await Promise.all(names.map((shard) => leaderboardNamed(this.env, shard).exportWindows({ ...request, shard })))) as ShardExport[];
    const snapshot = buildSnapshot(catalog, exports, now);
    const written = await writeSnapshot(this.env.DB, snapshot, now, period);
    return { version: written.version, changed: written.changed, asOf: now, durationMs: Date.now() - started, apis: catalog.apis.length, shards: names.length };
  }

  private becomeCoordinator(): void {
    if (this.coordinator) return;
    this.sql.exec("INSERT INTO meta (key, value) VALUES ('coordinator', '1') ON CONFLICT (key) DO NOTHING");
    this.coordinator = true;
  }

  // -------------------------------------------------------------------------------------------
  // alarm: coordinator → rollup and reschedule; shard → kick the coordinator, prune

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const now = Date.now();
    let next: number | null = null;
    const soonest = (at: number) => {
      next = next === null ? at : Math.min(next, at);
    };
    if (this.coordinator) {
      try {
        await this.rollup();
      } catch (err) {
        console.error("leaderboard rollup failed; retrying next period", err);
      }
      soonest(Date.now() + rollupPeriodSeconds(this.env) * 1000);
    }
    const hasKeys = this.sql.exec("SELECT 1 FROM seen LIMIT 1").toArray().length > 0;
    if (hasKeys) {
      if (now - this.lastKickAt >= KICK_EVERY_MS && !this.coordinator) {
        try {
          await rollupCoordinator(this.env).kick();
          this.lastKickAt = now;
        } catch (err) {
          console.error("leaderboard: could not reach the rollup coordinator", err);
          soonest(now + KICK_RETRY_MS);
        }
      }
      this.sql.exec(SQL.SEEN_PRUNE, now - DEDUPE_RETENTION_MS);
      soonest(now + PRUNE_EVERY_MS);
    }
    if (next !== null) this.scheduleAlarm(next);
  }

  /** Moves the alarm only earlier; not awaited so ingest stays synchronous. */
  private scheduleAlarm(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    this.ctx.storage.setAlarm(at).catch(() => {
      this.alarmAt = null; // try again on the next write
    });
  }
}
