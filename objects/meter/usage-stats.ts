// Usage stats of the tenant (docs/ARCHITECTURE.md §4): hourly aggregates with a latency
// histogram, distinct callers per UTC day and ever, with their SQL (tables usage_hourly,
// caller_days, callers, meta 'callers_total', calls per transport in usage_transport). Recording a
// call also queues its usage event for the Leaderboard (usage-outbox.ts), in the same storage
// transaction. The dispatcher sends aggregated batches instead (usage-aggregate.ts, same rules);
// `record`/`recordBatch` stay for single records (tests, older dispatchers).
//
// calls = every recorded call; served = outcome "served" or "payment_settled"; errors = status
// ≥ 500 or outcome "tenant_error" (may overlap served); refused = outcomes whose trait is
// `refusedStat`. Challenges and unusable payments are not calls: they feed events only. Latency
// percentiles cover admitted calls only: a refusal never reached the tenant.
import { estimatePercentile, latencyBucket } from "../shared/histogram.ts";
import { isOutcome, OUTCOME_TRAITS } from "../shared/outcomes.ts";
import { DAY_MS, nextUtcMonthStartMs, utcDayKey, utcDayStartMs, utcHour, utcMonthStartMs } from "../shared/time.ts";
import { dayCutoff, dayRowExpiresAt, type Housekeeping } from "./housekeeping.ts";
import { HIST_COLUMNS } from "./schema.ts";
import type { MeterStats, TransportCalls, UsageRecord, WindowStats } from "./types.ts";
import type { UsageOutbox } from "./usage-outbox.ts";

const MAX_LABEL_LENGTH = 128;

const HOURLY_BASE = "INSERT INTO usage_hourly (hour, calls, served, errors, refused";
const HOURLY_UPDATE =
  "ON CONFLICT (hour) DO UPDATE SET calls = calls + 1, served = served + excluded.served, " +
  "errors = errors + excluded.errors, refused = refused + excluded.refused";
/** One statement per latency bucket (column names come from a fixed list, never from input). */
const SQL_HOURLY_WITH_LATENCY = HIST_COLUMNS.map(
  (c) => `${HOURLY_BASE}, ${c}) VALUES (?, 1, ?, ?, ?, 1) ${HOURLY_UPDATE}, ${c} = ${c} + 1`,
);
const SQL_HOURLY_NO_LATENCY = `${HOURLY_BASE}) VALUES (?, 1, ?, ?, ?) ${HOURLY_UPDATE}`;
const SUMMED = ["calls", "served", "errors", "refused", ...HIST_COLUMNS];
const SQL_HOURLY_SUM = `SELECT ${SUMMED.map((c) => `COALESCE(SUM(${c}), 0) AS ${c}`).join(", ")} FROM usage_hourly`;
const SQL_TRANSPORT_ADD =
  "INSERT INTO usage_transport (hour, transport, calls) VALUES (?, ?, 1) " +
  "ON CONFLICT (hour, transport) DO UPDATE SET calls = calls + 1";
const SQL_MCP_CALLS = "SELECT COALESCE(SUM(calls), 0) AS n FROM usage_transport WHERE transport = 'mcp'";
const SQL_CALLERS_TOTAL_ADD =
  "INSERT INTO meta (key, value) VALUES ('callers_total', '1') " +
  "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1";

function emptyWindow(): WindowStats {
  return { calls: 0, served: 0, errors: 0, refused: 0, uniqueCallers: 0, p50LatencyMs: null, p95LatencyMs: null };
}

/** Throws TypeError unless `usage` is a well-formed UsageRecord. */
export function checkUsageRecord(usage: UsageRecord): void {
  if (!usage || typeof usage !== "object") throw new TypeError("invalid UsageRecord");
  const { ts, status, outcome } = usage;
  const bad = (what: string): never => {
    throw new TypeError(`invalid UsageRecord: ${what}`);
  };
  if (typeof ts !== "number" || !Number.isFinite(ts)) bad("ts must be a finite number");
  if (typeof status !== "number" || !Number.isFinite(status)) bad("status must be a number");
  if (!isOutcome(outcome)) bad(`unknown outcome ${JSON.stringify(outcome)}`);
  if (typeof usage.caller !== "string") bad("caller must be a string");
}

export class UsageStats {
  constructor(
    private readonly sql: SqlStorage,
    private readonly transactionSync: <T>(fn: () => T) => T,
    private readonly housekeeping: Housekeeping,
    private readonly events: UsageOutbox,
  ) {}

  /**
   * Records a batch the dispatcher buffered (one RPC and one storage commit for many calls).
   * Invalid entries are skipped and counted rather than failing the whole batch: one bad record
   * must not lose the others.
   */
  recordBatch(usages: UsageRecord[]): { recorded: number; rejected: number } {
    if (!Array.isArray(usages)) throw new TypeError("recordBatch takes an array of UsageRecord");
    let recorded = 0;
    this.transactionSync(() => {
      for (const usage of usages) {
        try {
          this.record(usage);
          recorded += 1;
        } catch (err) {
          if (!(err instanceof TypeError)) throw err;
        }
      }
    });
    return { recorded, rejected: usages.length - recorded };
  }

  record(usage: UsageRecord): void {
    checkUsageRecord(usage);
    const { ts, status, latencyMs, outcome } = usage;
    // payment_settled's event is written by commit (same transaction as the settlement).
    if (outcome !== "payment_settled") this.events.emit({ ...usage, lifecycle: outcome });
    if (!OUTCOME_TRAITS[outcome].call) return;
    const refused = OUTCOME_TRAITS[outcome].refusedStat ? 1 : 0;
    const served = outcome === "served" || outcome === "payment_settled" ? 1 : 0;
    const errors = status >= 500 || outcome === "tenant_error" ? 1 : 0;
    const hour = utcHour(ts);
    // Refused calls never reached the tenant: their latency would only drag the percentiles down.
    if (refused || typeof latencyMs !== "number" || !Number.isFinite(latencyMs)) {
      this.sql.exec(SQL_HOURLY_NO_LATENCY, hour, served, errors, refused);
    } else {
      this.sql.exec(SQL_HOURLY_WITH_LATENCY[latencyBucket(latencyMs)]!, hour, served, errors, refused);
    }
    this.sql.exec(SQL_TRANSPORT_ADD, hour, usage.transport === "mcp" ? "mcp" : "http");
    this.countCaller(usage, ts);
  }

  private countCaller(usage: UsageRecord, ts: number): void {
    const day = utcDayKey(ts);
    const label = typeof usage.callerLabel === "string" ? usage.callerLabel.slice(0, MAX_LABEL_LENGTH) : null;
    const insertDay = "INSERT OR IGNORE INTO caller_days (day, caller, label) VALUES (?, ?, ?)";
    if (this.sql.exec(insertDay, day, usage.caller, label).rowsWritten === 0) return;
    const insertEver = "INSERT OR IGNORE INTO callers (caller, first_seen_ms) VALUES (?, ?)";
    if (this.sql.exec(insertEver, usage.caller, ts).rowsWritten > 0) this.sql.exec(SQL_CALLERS_TOTAL_ADD);
    this.housekeeping.ensure(dayRowExpiresAt(ts), ts);
  }

  stats(now: number, configVersion: number): MeterStats {
    const dayStart = utcDayStartMs(now);
    const monthStart = utcMonthStartMs(now);
    const monthEnd = nextUtcMonthStartMs(now);
    const today = this.sumHours(utcHour(dayStart), utcHour(dayStart + DAY_MS));
    const month = this.sumHours(utcHour(monthStart), utcHour(monthEnd));
    const total = this.sumHours(null, null);
    const countDay = "SELECT COUNT(*) AS n FROM caller_days WHERE day = ?";
    today.uniqueCallers = this.sql.exec<{ n: number }>(countDay, utcDayKey(now)).one().n;
    month.uniqueCallers = this.sql
      .exec<{ n: number }>(
        "SELECT COUNT(DISTINCT caller) AS n FROM caller_days WHERE day >= ? AND day < ?",
        utcDayKey(monthStart),
        utcDayKey(monthEnd),
      )
      .one().n;
    const selectTotal = "SELECT value FROM meta WHERE key = 'callers_total'";
    const totalRow = this.sql.exec<{ value: string }>(selectTotal).toArray()[0];
    total.uniqueCallers = totalRow ? Number(totalRow.value) : 0;
    const transports = {
      today: this.byTransport(today.calls, utcHour(dayStart), utcHour(dayStart + DAY_MS)),
      month: this.byTransport(month.calls, utcHour(monthStart), utcHour(monthEnd)),
      total: this.byTransport(total.calls, null, null),
    };
    return { configVersion, windows: { today, month, total }, transports };
  }

  /** MCP calls from usage_transport; the rest are HTTP (calls recorded before it existed too). */
  private byTransport(calls: number, fromHour: number | null, toHour: number | null): TransportCalls {
    const mcp =
      fromHour === null || toHour === null
        ? this.sql.exec<{ n: number }>(SQL_MCP_CALLS).one().n
        : this.sql.exec<{ n: number }>(`${SQL_MCP_CALLS} AND hour >= ? AND hour < ?`, fromHour, toHour).one().n;
    return { http: Math.max(0, calls - mcp), mcp };
  }

  /** Admitted (not refused) calls recorded between two instants: what a new quota starts from. */
  admittedBetween(startMs: number, endMs: number): number {
    return this.sql
      .exec<{ n: number }>(
        "SELECT COALESCE(SUM(calls - refused), 0) AS n FROM usage_hourly WHERE hour >= ? AND hour < ?",
        utcHour(startMs),
        utcHour(endMs),
      )
      .one().n;
  }

  private sumHours(fromHour: number | null, toHour: number | null): WindowStats {
    const cursor =
      fromHour === null || toHour === null
        ? this.sql.exec<Record<string, number>>(SQL_HOURLY_SUM)
        : this.sql.exec<Record<string, number>>(`${SQL_HOURLY_SUM} WHERE hour >= ? AND hour < ?`, fromHour, toHour);
    const row = cursor.toArray()[0];
    if (!row) return emptyWindow();
    const hist = HIST_COLUMNS.map((c) => row[c] ?? 0);
    return {
      calls: row.calls ?? 0,
      served: row.served ?? 0,
      errors: row.errors ?? 0,
      refused: row.refused ?? 0,
      uniqueCallers: 0,
      p50LatencyMs: estimatePercentile(hist, 0.5),
      p95LatencyMs: estimatePercentile(hist, 0.95),
    };
  }

  /** Caller-days past the retention go; returns when the oldest remaining one expires. */
  prune(now: number): number | null {
    this.sql.exec("DELETE FROM caller_days WHERE day < ?", dayCutoff(now));
    const oldestDay = this.sql.exec<{ d: string | null }>("SELECT MIN(day) AS d FROM caller_days").one().d;
    return oldestDay !== null ? dayRowExpiresAt(oldestDay) : null;
  }
}
