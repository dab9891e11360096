// Spend counters of the payment book (docs/ARCHITECTURE.md §4, §9.1), with their SQL (table
// spend): per tenant day ('d'), tenant month ('m') and payer day ('p', payer '' for tenant rows),
// each `settled` and `reserved` as decimal strings with bigint math (shared/money.ts). A payment
// counts in the UTC day and month of its admit, also when it settles after midnight. Counters run
// whether or not caps are configured, so a cap switched on mid-day counts the whole day. The cap
// math and X-Spend-* headers are in spend-caps.ts.
import { addAtomic, subAtomicClamped } from "../shared/money.ts";
import { nextUtcDayStartMs, nextUtcMonthStartMs, secondsUntil, utcDayKey, utcMonthKey } from "../shared/time.ts";
import { dayCutoff, dayRowExpiresAt, monthCutoff } from "./housekeeping.ts";
import { checkSpendCaps, type SpendCheck, type SpendWindow } from "./spend-caps.ts";
import type { SpendCapsAtomic, SpendInfo } from "./types.ts";

type SpendKind = "d" | "m" | "p";

/**
 * How a payment moves its counters: reserve (reserved +=), release (reserved −=), settle
 * (reserved −=, settled +=) or settle_unreserved (settled += only: a late commit whose
 * reservation was already released).
 */
export type SpendOp = "reserve" | "release" | "settle" | "settle_unreserved";

/** The windows one payment counts in. */
export interface SpendKey {
  day: string;
  month: string;
  payer: string;
}

const SQL_SPEND_GET = "SELECT settled, reserved FROM spend WHERE kind = ? AND period = ? AND payer = ?";
const SQL_SPEND_PUT =
  "INSERT INTO spend (kind, period, payer, settled, reserved) VALUES (?, ?, ?, ?, ?) " +
  "ON CONFLICT (kind, period, payer) DO UPDATE SET settled = excluded.settled, reserved = excluded.reserved";

export class SpendBook {
  constructor(private readonly sql: SqlStorage) {}

  private window(kind: SpendKind, period: string, payer: string): SpendWindow {
    const row = this.sql.exec<{ settled: string; reserved: string }>(SQL_SPEND_GET, kind, period, payer).toArray()[0];
    return row ?? { settled: "0", reserved: "0" };
  }

  /** Would `amount` from `payer` at `now` fit every configured cap? Reads only. */
  check(caps: SpendCapsAtomic | undefined, amount: string, payer: string, now: number): SpendCheck {
    const day = utcDayKey(now);
    return checkSpendCaps({
      caps,
      amount,
      daily: this.window("d", day, ""),
      monthly: this.window("m", utcMonthKey(now), ""),
      payerDaily: this.window("p", day, payer),
      dayResetSeconds: secondsUntil(nextUtcDayStartMs(now), now),
      monthResetSeconds: secondsUntil(nextUtcMonthStartMs(now), now),
    });
  }

  /**
   * Moves `amount` in the three counters of a payment's windows; clamped at 0. `settledAmount`
   * (settle ops; default `amount`) is what becomes settled spend: an upto payment reserves its
   * maximum and settles its actual charge.
   */
  adjust(key: SpendKey, amount: string, op: SpendOp, settledAmount: string = amount): void {
    const rows: [SpendKind, string, string][] = [
      ["d", key.day, ""],
      ["m", key.month, ""],
      ["p", key.day, key.payer],
    ];
    for (const [kind, period, who] of rows) {
      const w = this.window(kind, period, who);
      let reserved = w.reserved; // settle_unreserved: the reservation was released already
      if (op === "reserve") reserved = addAtomic(w.reserved, amount);
      else if (op === "release" || op === "settle") reserved = subAtomicClamped(w.reserved, amount);
      const settles = op === "settle" || op === "settle_unreserved";
      const settled = settles ? addAtomic(w.settled, settledAmount) : w.settled;
      this.sql.exec(SQL_SPEND_PUT, kind, period, who, settled, reserved);
    }
  }

  /** Spend in the windows holding `now` (tenant day and month; one payer's day if given). */
  info(now: number, payer?: string): SpendInfo {
    const day = utcDayKey(now);
    const month = utcMonthKey(now);
    const info: SpendInfo = { day, month, daily: this.window("d", day, ""), monthly: this.window("m", month, "") };
    if (typeof payer === "string") info.payerDaily = this.window("p", day, payer);
    return info;
  }

  /** Day rows are kept like the daily quota counters, month rows like the monthly ones. */
  prune(now: number): number | null {
    this.sql.exec("DELETE FROM spend WHERE kind IN ('d', 'p') AND period < ?", dayCutoff(now));
    this.sql.exec("DELETE FROM spend WHERE kind = 'm' AND period < ?", monthCutoff(now));
    const select = "SELECT MIN(period) AS d FROM spend WHERE kind IN ('d', 'p')";
    const oldest = this.sql.exec<{ d: string | null }>(select).one().d;
    return oldest !== null ? dayRowExpiresAt(oldest) : null;
  }
}
