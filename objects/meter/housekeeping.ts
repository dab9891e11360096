// Housekeeping of the TenantMeter (docs/ARCHITECTURE.md §4): deleting rows that carry no
// information any more, on the one alarm, never sooner than PRUNE_MIN_DELAY_MS after the last
// run (pruning is about space, not time). Each module prunes its own tables (`Pruner`); this
// module owns when that happens and the retention windows they share:
//   bucket rows once they would be full again (a missing row means a full bucket),
//   caller-days, daily quota counters and day spend rows after CALLER_DAYS_RETENTION days,
//   monthly counters and month spend rows after MONTH_RETENTION months,
//   settled payments after their replay window, idempotency keys after 24 h,
//   in-flight payments without retry material after validBefore + 60 s (released).
import type { AlarmScheduler } from "../shared/alarm.ts";
import { DAY_MS, utcDayKey, utcDayStartMs, utcMonthKey } from "../shared/time.ts";

/** Per-day caller rows (and daily counters) are kept this long: a month of uniques plus slack. */
export const CALLER_DAYS_RETENTION = 40;
/** Monthly counters older than this many months are dropped. */
export const MONTH_RETENTION = 13;
/** Housekeeping is never sooner than this after the last run. */
export const PRUNE_MIN_DELAY_MS = 15 * 60_000;

/** Deletes what its module no longer needs at `now`; returns when it next has work, or null. */
export type Pruner = (now: number) => number | null;

/** Day keys older than this are past the daily retention at `now`. */
export function dayCutoff(now: number): string {
  return utcDayKey(now - CALLER_DAYS_RETENTION * DAY_MS);
}

/** Month keys older than this are past the monthly retention at `now`. */
export function monthCutoff(now: number): string {
  const d = new Date(now);
  return utcMonthKey(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - MONTH_RETENTION, 1));
}

/** When a row of day `dayKey` ("2026-11-23") or of the day holding `ms` falls out of retention. */
export function dayRowExpiresAt(day: string | number): number {
  const start = typeof day === "number" ? utcDayStartMs(day) : Date.parse(day);
  return start + (CALLER_DAYS_RETENTION + 1) * DAY_MS;
}

export class Housekeeping {
  /**
   * When housekeeping is next due, or null if nothing is scheduled. The one alarm also serves the
   * outboxes and reconciliation, so an alarm run prunes only when this is due. After a restart it
   * starts as the stored alarm time (`restore`).
   */
  private dueAt: number | null = null;

  constructor(
    private readonly alarms: AlarmScheduler,
    private readonly pruners: readonly Pruner[],
  ) {}

  restore(storedAlarm: number | null): void {
    this.dueAt = storedAlarm;
  }

  get scheduled(): boolean {
    return this.dueAt !== null;
  }

  get nextAt(): number | null {
    return this.dueAt;
  }

  /** Schedules housekeeping at `at` (never sooner than the minimum delay); moves it only earlier. */
  ensure(at: number, now: number): void {
    const when = Math.max(at, now + PRUNE_MIN_DELAY_MS);
    if (this.dueAt === null || when < this.dueAt) this.dueAt = when;
    this.alarms.arm(when);
  }

  /** Runs every pruner; returns when housekeeping next has work (floored to the minimum delay), or null. */
  run(now: number): number | null {
    let next = Infinity;
    for (const prune of this.pruners) {
      const at = prune(now);
      if (at !== null && at < next) next = at;
    }
    return Number.isFinite(next) ? Math.max(next, now + PRUNE_MIN_DELAY_MS) : null;
  }

  /** The alarm's turn: runs if due and reschedules itself. */
  runIfDue(now: number): void {
    if (this.dueAt !== null && this.dueAt <= now) this.dueAt = this.run(now);
  }
}
