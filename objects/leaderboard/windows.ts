// Leaderboard time windows (docs/ARCHITECTURE.md §7), as ranges of epoch hours. Pure: every
// function takes `now` so the rollup, the tests and the public API agree on what "today" means.
//   today    the UTC calendar day of `now`: its first hour up to and including the current hour
//   week     rolling 7 days at hour granularity: the current hour and the 167 before it
//   overall  everything ingested, with no end either (an event stamped in the future counts here
//            and nowhere else until its hour arrives)
// "Now" is the end of every window; a payer's age ("first seen < 24 h before the window end")
// is measured against it.
import { HOUR_MS, utcDayStartMs, utcHour } from "../shared/time.ts";

export const WINDOWS = ["today", "week", "overall"] as const;
export type WindowName = (typeof WINDOWS)[number];

export interface WindowRange {
  name: WindowName;
  /** First epoch hour in the window. */
  fromHour: number;
  /** First epoch hour after the window (exclusive). */
  toHour: number;
  /** The window's end in ms: the payer-age reference. */
  endMs: number;
}

export const WEEK_HOURS = 7 * 24;
/** "No bound" as an hour number that SQLite still stores as an integer. */
const OPEN_HOUR = Number.MAX_SAFE_INTEGER;

export function isWindowName(value: unknown): value is WindowName {
  return typeof value === "string" && (WINDOWS as readonly string[]).includes(value);
}

export function windowRange(name: WindowName, now: number): WindowRange {
  const current = utcHour(now);
  switch (name) {
    case "today":
      return { name, fromHour: utcHour(utcDayStartMs(now)), toHour: current + 1, endMs: now };
    case "week":
      return { name, fromHour: current - WEEK_HOURS + 1, toHour: current + 1, endMs: now };
    case "overall":
      return { name, fromHour: -OPEN_HOUR, toHour: OPEN_HOUR, endMs: now };
  }
}

export function windowRanges(now: number): WindowRange[] {
  return WINDOWS.map((name) => windowRange(name, now));
}

/** The epoch hour an event falls in. */
export function hourOf(ts: number): number {
  return Math.floor(ts / HOUR_MS);
}
