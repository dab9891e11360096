// Spend counters of the payment book (docs/ARCHITECTURE.md §4, §9.1), with their SQL (table
// spend): per tenant day ('d'), tenant month ('m') and payer day ('p', payer '' for tenant rows),
// each `settled` and `reserved` as decimal strings with bigint math (shared/money.ts). A payment
// counts in the UTC day and month of its admit, also when it settles after midnight. Counters run
// whether or not caps are configured, so a cap switched on mid-day counts the whole day. The cap
// math and X-Spend-* headers are in spend-caps.ts.
//
// The rows a payment touches are read at its admit (check, then adjust) and again at its commit,
// so the book keeps the rows it last read or wrote in memory (write-through, bounded LRU): a paid
// call then costs the meter three writes and no reads. The object is the only writer of its
// table, so memory can only diverge from it through a transaction that rolled back; the meter
// calls `forget()` when one throws (tenant-meter.ts), and prune forgets too.
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

/** Rows kept in memory; a tenant's day and month rows plus its busiest payers' day rows. */
export const SPEND_ROWS_KEPT = 1_024;

const SQL_SPEND_GET = "SELECT settled, reserved FROM spend WHERE kind = ? AND period = ? AND payer = ?";
const SQL_SPEND_PUT =
  "INSERT INTO spend (kind, period, payer, settled, reserved) VALUES (?, ?, ?, ?, ?) " +
  "ON CONFLICT (kind, period, payer) DO UPDATE SET settled = excluded.settled, reserved = excluded.reserved";

/** `transactionSync` that makes `book` forget what it kept when the transaction throws (rolls back). */
export function forgetsOnRollback(book: SpendBook, transactionSync: <T>(fn: () => T) => T): <T>(fn: () => T) => T {
  return <T>(fn: () => T): T => {
    try {
      return transactionSync(fn);
    } catch (error) {
      book.forget();
      throw error;
    }
  };
}

/** A spend row's key in memory: kind, period and payer (none of them holds a newline). */
const rowKey = (kind: SpendKind, period: string, payer: string) => `${kind}\n${period}\n${payer}`;

export class SpendBook {
  /** Rows as last read or written, least recently used first (Map keeps insertion order). */
  private readonly known = new Map<string, SpendWindow>();

  constructor(private readonly sql: SqlStorage) {}

  /** Drops what memory holds: after a rolled-back transaction, the table is the truth again. */
  forget(): void {
    this.known.clear();
  }

  private window(kind: SpendKind, period: string, payer: string): SpendWindow {
    const key = rowKey(kind, period, payer);
    const kept = this.known.get(key);
    if (kept) {
      this.keep(key, kept);
      return kept;
    }
    const row = this.sql.exec<{ settled: string; reserved: string }>(SQL_SPEND_GET, kind, period, payer).toArray()[0];
    const read = { settled: row?.settled ?? "0", reserved: row?.reserved ?? "0" };
    this.keep(key, read);
    return read;
  }

  private put(kind: SpendKind, period: string, payer: string, w: SpendWindow): void {
    this.sql.exec(SQL_SPEND_PUT, kind, period, payer, w.settled, w.reserved);
    this.keep(rowKey(kind, period, payer), w);
  }

  private keep(key: string, w: SpendWindow): void {
    this.known.delete(key);
    this.known.set(key, w);
    if (this.known.size > SPEND_ROWS_KEPT) this.known.delete(this.known.keys().next().value!);
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
      this.put(kind, period, who, { settled, reserved });
    }
  }

  /** Spend in the windows holding `now` (tenant day and month; one payer's day if given). */
  info(now: number, payer?: string): SpendInfo {
    const day = utcDayKey(now);
    const month = utcMonthKey(now);
    // Copies: what memory keeps is never handed out.
    const copy = (kind: SpendKind, period: string, who: string) => ({ ...this.window(kind, period, who) });
    const info: SpendInfo = { day, month, daily: copy("d", day, ""), monthly: copy("m", month, "") };
    if (typeof payer === "string") info.payerDaily = copy("p", day, payer);
    return info;
  }

  /** Day rows are kept like the daily quota counters, month rows like the monthly ones. */
  prune(now: number): number | null {
    this.forget();
    this.sql.exec("DELETE FROM spend WHERE kind IN ('d', 'p') AND period < ?", dayCutoff(now));
    this.sql.exec("DELETE FROM spend WHERE kind = 'm' AND period < ?", monthCutoff(now));
    const select = "SELECT MIN(period) AS d FROM spend WHERE kind IN ('d', 'p')";
    const oldest = this.sql.exec<{ d: string | null }>(select).one().d;
    return oldest !== null ? dayRowExpiresAt(oldest) : null;
  }
}
