// UTC time helpers shared by both Durable Objects and the dispatcher: calendar-window starts and
// keys (quotas, spend caps, leaderboard hours) and "seconds until" for reset headers. Pure: every
// function takes `now` (ms since epoch), never reads the clock.

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export function utcDayStartMs(now: number): number {
  return Math.floor(now / DAY_MS) * DAY_MS;
}

export function nextUtcDayStartMs(now: number): number {
  return utcDayStartMs(now) + DAY_MS;
}

export function utcMonthStartMs(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function nextUtcMonthStartMs(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1); // month 12 rolls into January
}

/** "2026-11-23" */
export function utcDayKey(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** "2026-11" */
export function utcMonthKey(now: number): string {
  return new Date(now).toISOString().slice(0, 7);
}

/** Hours since epoch: the key of an hourly stats row. */
export function utcHour(now: number): number {
  return Math.floor(now / HOUR_MS);
}

/** Whole seconds from `now` until `endMs`, at least 1 (a window that ends "now" ends in a second). */
export function secondsUntil(endMs: number, now: number): number {
  return Math.max(1, Math.ceil((endMs - now) / 1000));
}

export function secondsUntilNextUtcDay(now: number): number {
  return secondsUntil(nextUtcDayStartMs(now), now);
}

export function secondsUntilNextUtcMonth(now: number): number {
  return secondsUntil(nextUtcMonthStartMs(now), now);
}

export function utcMonthLengthSeconds(now: number): number {
  return (nextUtcMonthStartMs(now) - utcMonthStartMs(now)) / 1000;
}
