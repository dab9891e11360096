// The usage outbox (docs/ARCHITECTURE.md §4, §7): what the Leaderboard learns about the tenant's
// calls, written in the transaction of the fact it describes and delivered at least once, in
// batches, to this API's Leaderboard shard by the outbox drainer. Two kinds of rows: an
// aggregated usage batch (objects/shared/usage-batch.ts) per applied dispatcher batch, under the
// dispatcher's batch id (`ingestBatches`, deduped by (apiId, batchId)), and one usage event per
// settlement or per call recorded one at a time (`ingest`, deduped by (apiId, requestId)), so
// redelivery is harmless. A tenant whose config has no `events` emits nothing.
// A challenge carries its request fingerprint (the funnel counts challenged requests); one that is
// not a fingerprint is dropped here, so the Leaderboard never rejects the event over it.
import { leaderboardFor } from "../leaderboard/shards.ts";
import type { UsageBatch, UsageRow } from "../shared/usage-batch.ts";
import { type CallOutcome, usageEventFor } from "../shared/usage-event.ts";
import type { ConfigStore } from "./config.ts";
import { MAX_FINGERPRINT_LENGTH } from "./fingerprint.ts";
import type { Outbox, OutboxChannel } from "./outbox.ts";

/** Events wait this long so one delivery carries many calls (one RPC, one transaction). */
const USAGE_DELAY_MS = 1000;
const USAGE_BATCH = 500;
const MAX_USAGE_BATCHES = 20;
/** Aggregated batches per `ingestBatches` RPC (each up to 1000 rows, one shard transaction). */
const BATCHES_PER_RPC = 5;

/** The outbox channel that delivers usage events to the tenant's Leaderboard shard. */
export function usageChannel(env: Env, config: ConfigStore): OutboxChannel {
  return {
    kind: "usage",
    batchRows: USAGE_BATCH,
    maxBatches: MAX_USAGE_BATCHES,
    appendDelayMs: USAGE_DELAY_MS,
    idleDelayMs: USAGE_DELAY_MS,
    target: () => {
      const slug = config.current?.slug;
      if (!slug) return null;
      return async (bodies) => {
        const shard = leaderboardFor(env, slug);
        const parsed = bodies.map((b) => JSON.parse(b) as Record<string, unknown>);
        const events = parsed.filter((p) => !Array.isArray(p.rows));
        const batches = parsed.filter((p) => Array.isArray(p.rows));
        if (events.length > 0) await shard.ingest(events);
        for (let i = 0; i < batches.length; i += BATCHES_PER_RPC) {
          await shard.ingestBatches(batches.slice(i, i + BATCHES_PER_RPC));
        }
      };
    },
  };
}

export class UsageOutbox {
  constructor(
    private readonly outbox: Outbox,
    private readonly config: ConfigStore,
  ) {}

  /** Queues the call's usage event; the caller's transaction makes it atomic with its fact. */
  emit(outcome: CallOutcome): void {
    const cfg = this.config.current;
    if (!cfg?.events) return;
    const { fingerprint, ...rest } = outcome;
    const usable =
      typeof fingerprint === "string" && fingerprint.length > 0 && fingerprint.length <= MAX_FINGERPRINT_LENGTH;
    const call: CallOutcome = usable ? { ...rest, fingerprint } : rest;
    const event = usageEventFor(call, { apiId: cfg.slug, ...cfg.events, priceAtomic: cfg.priceAtomic });
    this.outbox.append("usage", JSON.stringify(event), Date.now());
  }

  /** Queues an aggregated batch under `batchId` (rows made for the API's price; none → nothing). */
  emitBatch(batchId: string, rowsFor: (priceAtomic: string) => UsageRow[]): void {
    const cfg = this.config.current;
    if (!cfg?.events) return;
    const rows = rowsFor(cfg.priceAtomic);
    if (rows.length === 0) return;
    const { owner, directory } = cfg.events;
    const batch: UsageBatch = { batchId, apiId: cfg.slug, owner, directory, rows };
    this.outbox.append("usage", JSON.stringify(batch), Date.now());
  }
}
