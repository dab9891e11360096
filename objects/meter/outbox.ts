// The meter's outbox and its one drainer (docs/ARCHITECTURE.md §4): rows written in the same
// storage transaction as the fact they describe (a settlement, a call), delivered later by the
// alarm, at least once, in order, and deleted only after the receiver accepted them. Each kind
// of row is a channel: ledger rows to D1 (ledger-outbox.ts), usage events to the Leaderboard
// (usage-outbox.ts). The channels fail and back off independently (1 s doubling to 60 s), so a
// D1 outage never holds back the Leaderboard or the other way round. Table: outbox.
import type { AlarmScheduler } from "../shared/alarm.ts";
import { flushBackoffMs } from "./payment-rules.ts";

export type OutboxKind = "ledger" | "usage";

/** Sends one batch of row bodies (JSON strings, in order); resolves once they were accepted. */
export type OutboxSend = (bodies: string[]) => Promise<void>;

export interface OutboxChannel {
  kind: OutboxKind;
  /** Rows per delivery. */
  batchRows: number;
  /** Deliveries per drain; more rows than that are left for an immediate next alarm. */
  maxBatches: number;
  /** After an append, delivery waits this long so a burst of appends shares one delivery. */
  appendDelayMs: number;
  /** With rows waiting and no failure, the alarm's next delivery comes this long after a run. */
  idleDelayMs: number;
  /** The receiver right now, or null when there is none yet (rows wait, nothing counts as failed). */
  target(): OutboxSend | null;
  /**
   * Optional, run before each delivery selects its rows: may rewrite the channel's first `limit`
   * rows in one transaction (usage coalescing, usage-coalesce.ts) and returns the highest seq it
   * looked at; the delivery sends nothing beyond it (null: no row waits).
   */
  seal?(limit: number, now: number): number | null;
}

/** What one drain did: rows delivered, rows still waiting, and the error if a delivery failed. */
export interface DrainResult {
  sent: number;
  remaining: number;
  error?: string;
}

interface ChannelState {
  channel: OutboxChannel;
  failures: number;
  /** While deliveries fail: no attempt before this (appends must not defeat the backoff). */
  retryAt: number | null;
  /** In-memory hint that rows wait, so the alarm path avoids a COUNT(*) per call. */
  waiting: boolean;
  /** Drains run one after another: an alarm and an RPC never send the same rows twice at once. */
  chain: Promise<unknown>;
}

export class Outbox {
  private readonly states = new Map<OutboxKind, ChannelState>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly alarms: AlarmScheduler,
    channels: readonly OutboxChannel[],
  ) {
    for (const channel of channels) {
      this.states.set(channel.kind, { channel, failures: 0, retryAt: null, waiting: false, chain: Promise.resolve() });
    }
  }

  private state(kind: OutboxKind): ChannelState {
    const s = this.states.get(kind);
    if (!s) throw new Error(`no outbox channel ${kind}`);
    return s;
  }

  /** Appends a row (the caller's transaction makes it atomic with its fact) and schedules delivery. */
  append(kind: OutboxKind, body: string, now: number): void {
    const s = this.state(kind);
    this.sql.exec("INSERT INTO outbox (kind, body, created_ms) VALUES (?, ?, ?)", kind, body, now);
    s.waiting = true;
    this.alarms.arm(Math.max(now + s.channel.appendDelayMs, s.retryAt ?? 0));
  }

  /** Delivers waiting rows of `kind`. Never throws: a failed delivery keeps its rows and backs off. */
  drain(kind: OutboxKind): Promise<DrainResult> {
    const s = this.state(kind);
    const run = s.chain.then(() => this.drainOnce(s));
    s.chain = run.catch(() => undefined);
    return run;
  }

  private async drainOnce(s: ChannelState): Promise<DrainResult> {
    const { kind, batchRows, maxBatches } = s.channel;
    const send = s.channel.target();
    if (!send) return { sent: 0, remaining: this.size(kind) };
    let sent = 0;
    for (let batch = 0; batch < maxBatches; batch++) {
      let rows: { seq: number; body: string }[];
      try {
        // Sealed before sent: a retry resends exactly what this delivery sends (usage-coalesce.ts).
        const upTo = s.channel.seal ? (s.channel.seal(batchRows, Date.now()) ?? 0) : Number.MAX_SAFE_INTEGER;
        const select = "SELECT seq, body FROM outbox WHERE kind = ? AND seq <= ? ORDER BY seq LIMIT ?";
        rows = this.sql.exec<{ seq: number; body: string }>(select, kind, upTo, batchRows).toArray();
        if (rows.length === 0) break;
        await send(rows.map((r) => r.body));
      } catch (err) {
        s.failures += 1;
        s.retryAt = Date.now() + flushBackoffMs(s.failures);
        this.alarms.arm(s.retryAt);
        return { sent, remaining: this.size(kind), error: err instanceof Error ? err.message : String(err) };
      }
      // Only what was sent: rows appended meanwhile have higher seq and wait their turn.
      this.sql.exec("DELETE FROM outbox WHERE kind = ? AND seq <= ?", kind, rows[rows.length - 1]!.seq);
      sent += rows.length;
    }
    s.failures = 0;
    s.retryAt = null;
    const remaining = this.size(kind);
    s.waiting = remaining > 0;
    if (remaining > 0) this.alarms.arm(Date.now());
    return { sent, remaining };
  }

  size(kind: OutboxKind): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE kind = ?", kind).one().n;
  }

  /** When the alarm should next deliver `kind`, or null when nothing waits. */
  dueAt(kind: OutboxKind, now: number): number | null {
    const s = this.state(kind);
    if (!s.waiting && this.size(kind) === 0) return null;
    return s.retryAt ?? now + s.channel.idleDelayMs;
  }
}
