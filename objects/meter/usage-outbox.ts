// The usage outbox (docs/ARCHITECTURE.md §4, §7): one usage event per call outcome, written in the
// transaction of the record or settlement it describes and delivered at least once, in batches,
// to this API's Leaderboard shard by the outbox drainer. The Leaderboard dedupes by (apiId,
// requestId), so redelivery is harmless. A tenant whose config has no `events` emits nothing.
// A challenge carries its request fingerprint (the funnel counts challenged requests); one that is
// not a fingerprint is dropped here, so the Leaderboard never rejects the event over it.
import { leaderboardFor } from "../leaderboard/shards.ts";
import { type CallOutcome, usageEventFor } from "../shared/usage-event.ts";
import type { ConfigStore } from "./config.ts";
import { MAX_FINGERPRINT_LENGTH } from "./fingerprint.ts";
import type { Outbox, OutboxChannel } from "./outbox.ts";

/** Events wait this long so one delivery carries many calls (one RPC, one transaction). */
const USAGE_DELAY_MS = 1000;
const USAGE_BATCH = 500;
const MAX_USAGE_BATCHES = 20;

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
        await leaderboardFor(env, slug).ingest(bodies.map((b) => JSON.parse(b) as unknown));
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
}
