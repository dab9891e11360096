// Leaderboard: a SQLite-backed Durable Object with two roles (docs/ARCHITECTURE.md §7). This file
// is the RPC surface, the alarm and the wiring; the work is in plain modules beside it.
//
// Shard (`shard-<n>`, see shards.ts): `ingest` receives usage events from the TenantMeter
// outboxes (at least once), dedupes them by (apiId, requestId) (dedupe.ts) and folds them into
// per-hour aggregates (ingest.ts, events.ts; schema in sql.ts). A call is synchronous from its
// first read to its last write inside one transactionSync, so a batch is recorded whole or not at
// all: if the object dies mid-call the producer's retry finds no key and records it once; if it
// dies after, the retry finds every key and records nothing. `ingestBatch` (batch-ingest.ts)
// does the same for an aggregated usage batch, deduped by (apiId, batchId): one key per batch, not
// per call. `exportWindows` (shard-export.ts) hands the aggregates of each window to the
// coordinator.
//
// Coordinator (`rollup`): its alarm runs every ROLLUP_PERIOD_SECONDS (default 60) and runs the
// rollup (rollup.ts: D1 catalog + every shard's export → scored snapshot → D1). Once started it
// keeps running (an unchanged snapshot writes nothing). `rollup()` forces one now (POST
// /__platform/rollup); rollups never overlap.
//
// Who starts the coordinator: a shard's alarm, one second after an ingest, calls `kick()` (at
// most every KICK_EVERY_MS per shard, and again after every restart), so the coordinator needs
// no configuration and survives losing its alarm. Shard alarms also prune dedupe keys older
// than DEDUPE_RETENTION_MS (by ingest time). Raw events are trimmed to the newest RECENT_EVENTS
// on every ingest.
import { DurableObject } from "cloudflare:workers";
import { HOUR_MS } from "../shared/time.ts";
import { parseUsageBatch, recordUsageBatch } from "./batch-ingest.ts";
import { migrateChallengeKeys } from "./challenge-keys.ts";
import { hasKeys, pruneKeys } from "./dedupe.ts";
import { parseBatch, readRecent, recordBatch, type IngestResult, type RecentEvents } from "./ingest.ts";
import { runRollup, type RollupResult } from "./rollup.ts";
import { exportShard, type ExportRequest } from "./shard-export.ts";
import { rollupCoordinator, rollupPeriodSeconds } from "./shards.ts";
import type { ShardExport } from "./snapshot-types.ts";
import * as SQL from "./sql.ts";
import { AlarmScheduler } from "../shared/alarm.ts";

export type { ExportRequest, IngestResult, RecentEvents, RollupResult };

const PRUNE_EVERY_MS = HOUR_MS;
const KICK_EVERY_MS = 10 * 60_000;
const KICK_DELAY_MS = 1000;
const KICK_RETRY_MS = 30_000;
/** Aggregated batches per ingestBatches call (each up to MAX_BATCH_ROWS rows). */
const MAX_BATCHES_PER_CALL = 20;

export class Leaderboard extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private coordinator: boolean;
  /** The one alarm slot, shared by the rollup and the shard housekeeping (objects/shared/alarm.ts). */
  private readonly alarms: AlarmScheduler;
  private lastKickAt = 0;
  private rollupChain: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SQL.SCHEMA);
    ctx.storage.transactionSync(() => migrateChallengeKeys(this.sql));
    this.coordinator = this.sql.exec("SELECT 1 FROM meta WHERE key = 'coordinator'").toArray().length > 0;
    this.alarms = new AlarmScheduler(ctx.storage);
    void ctx.blockConcurrencyWhile(() => this.alarms.load());
  }

  // -------------------------------------------------------------------------------------------
  // shard

  /** Records a batch of usage events (synchronous, one transaction). */
  ingest(events: unknown[]): IngestResult {
    const { valid, rejected } = parseBatch(events);
    const now = Date.now();
    return this.recorded(
      now,
      this.ctx.storage.transactionSync(() => recordBatch(this.sql, valid, rejected, now)),
    );
  }

  /** Records an aggregated usage batch exactly once per (apiId, batchId) (synchronous, one transaction). */
  ingestBatch(batch: unknown): IngestResult {
    const parsed = parseUsageBatch(batch);
    const now = Date.now();
    return this.recorded(
      now,
      this.ctx.storage.transactionSync(() => recordUsageBatch(this.sql, parsed, now)),
    );
  }

  /**
   * Records several aggregated batches in one transaction (the meter's outbox sends a few per
   * RPC), each exactly once per (apiId, batchId). Counts are summed over the batches.
   */
  ingestBatches(batches: unknown[]): IngestResult {
    if (!Array.isArray(batches) || batches.length > MAX_BATCHES_PER_CALL) {
      throw new TypeError(`ingestBatches takes an array of at most ${MAX_BATCHES_PER_CALL} usage batches`);
    }
    const parsed = batches.map(parseUsageBatch);
    const now = Date.now();
    const total: IngestResult = { accepted: 0, duplicates: 0, rejected: 0 };
    this.ctx.storage.transactionSync(() => {
      for (const p of parsed) {
        const r = recordUsageBatch(this.sql, p, now);
        total.accepted += r.accepted;
        total.duplicates += r.duplicates;
        total.rejected += r.rejected;
      }
    });
    return this.recorded(now, total);
  }

  /** After a write: wake up soon to kick the coordinator, or later to prune keys. */
  private recorded(now: number, result: IngestResult): IngestResult {
    if (result.accepted > 0) {
      this.alarms.arm(now - this.lastKickAt >= KICK_EVERY_MS ? now + KICK_DELAY_MS : now + PRUNE_EVERY_MS);
    }
    return result;
  }

  /** This shard's aggregates for each window (synchronous: one consistent view). */
  exportWindows(req: ExportRequest): ShardExport {
    return exportShard(this.sql, req);
  }

  /** Newest raw events of this shard (operator debugging), optionally of one API. */
  recentEvents(req: { apiId?: string; limit: number }): RecentEvents {
    return readRecent(this.sql, req);
  }

  // -------------------------------------------------------------------------------------------
  // coordinator

  /** Starts the periodic rollup if it is not running (idempotent, cheap). */
  async kick(): Promise<void> {
    this.becomeCoordinator();
    // The stored alarm, not the mirror, decides: a lost alarm must be re-armed by the next kick.
    if ((await this.alarms.refresh()) === null) this.alarms.arm(Date.now() + rollupPeriodSeconds(this.env) * 1000);
  }

  /** Rolls up now (after any rollup in progress) and returns what was written. */
  rollup(now?: number): Promise<RollupResult> {
    this.becomeCoordinator();
    if (this.alarms.armedAt === null) this.alarms.arm(Date.now() + rollupPeriodSeconds(this.env) * 1000);
    const at = typeof now === "number" && Number.isFinite(now) ? now : Date.now();
    const run = this.rollupChain.then(() => runRollup(this.env, at));
    this.rollupChain = run.catch(() => undefined);
    return run;
  }

  private becomeCoordinator(): void {
    if (this.coordinator) return;
    this.sql.exec("INSERT INTO meta (key, value) VALUES ('coordinator', '1') ON CONFLICT (key) DO NOTHING");
    this.coordinator = true;
  }

  // -------------------------------------------------------------------------------------------
  // alarm: coordinator → rollup and reschedule; shard → kick the coordinator, prune

  override async alarm(): Promise<void> {
    this.alarms.fired();
    const now = Date.now();
    let rollupDue: number | null = null;
    if (this.coordinator) {
      try {
        await this.rollup();
      } catch (err) {
        console.error("leaderboard rollup failed; retrying next period", err);
      }
      rollupDue = Date.now() + rollupPeriodSeconds(this.env) * 1000;
    }
    this.alarms.rearm(rollupDue, await this.shardHousekeeping(now));
  }

  /** Kicks the coordinator (shards only) and prunes dedupe keys; returns when to run again. */
  private async shardHousekeeping(now: number): Promise<number | null> {
    if (!hasKeys(this.sql)) return null;
    let next = now + PRUNE_EVERY_MS;
    if (now - this.lastKickAt >= KICK_EVERY_MS && !this.coordinator) {
      try {
        await rollupCoordinator(this.env).kick();
        this.lastKickAt = now;
      } catch (err) {
        console.error("leaderboard: could not reach the rollup coordinator", err);
        next = now + KICK_RETRY_MS;
      }
    }
    pruneKeys(this.sql, now);
    return next;
  }
}
