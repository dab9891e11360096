// The spend book's in-memory rows (objects/meter/spend-book.ts) against its SQL table, in a real
// TenantMeter's SQLite storage: whatever sequence of reserves, releases, settles and rolled-back
// transactions runs, what the book answers equals what a fresh book reads from the table.
import { runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { forgetsOnRollback, SPEND_ROWS_KEPT, SpendBook, type SpendOp } from "../../objects/meter/spend-book.ts";
import { freshMeter, T0, DAY } from "./meter-helpers.ts";

const DAYS = [T0, T0 + DAY];
const PAYERS = ["0xaaa", "0xbbb", "0xccc"];

interface Step {
  op: SpendOp;
  amount: number;
  settled: number;
  payer: number;
  day: number;
  /** The transaction throws after the adjust: it rolls back. */
  rollsBack: boolean;
}

const step: fc.Arbitrary<Step> = fc.record({
  op: fc.constantFrom<SpendOp>("reserve", "release", "settle", "settle_unreserved"),
  amount: fc.integer({ min: 0, max: 5_000 }),
  settled: fc.integer({ min: 0, max: 5_000 }),
  payer: fc.nat({ max: PAYERS.length - 1 }),
  day: fc.nat({ max: DAYS.length - 1 }),
  rollsBack: fc.boolean(),
});

function keyOf(s: Step) {
  const at = new Date(DAYS[s.day]!).toISOString();
  return { day: at.slice(0, 10), month: at.slice(0, 7), payer: PAYERS[s.payer]! };
}

/** Every window the steps can touch, as `book` answers it. */
function everything(book: SpendBook) {
  return DAYS.flatMap((now) => PAYERS.map((payer) => book.info(now, payer)));
}

describe("SpendBook rows kept in memory", () => {
  it("answers what the table holds after any sequence of adjusts and rollbacks", async () => {
    await runInDurableObject(freshMeter(), (_meter, state) => {
      const sql = state.storage.sql;
      let run = 0;
      fc.assert(
        fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
          sql.exec("DELETE FROM spend");
          const book = new SpendBook(sql);
          const transactionSync = forgetsOnRollback(book, (fn) => state.storage.transactionSync(fn));
          everything(book); // every row kept (as zeros) before the first write
          for (const s of steps) {
            const adjust = () => book.adjust(keyOf(s), String(s.amount), s.op, String(s.settled));
            try {
              transactionSync(() => {
                adjust();
                if (s.rollsBack) throw new Error(`rolled back ${++run}`);
              });
            } catch (error) {
              expect((error as Error).message).toMatch(/^rolled back/);
            }
            expect(everything(book)).toEqual(everything(new SpendBook(sql)));
          }
        }),
        { numRuns: 60 },
      );
    });
  });

  it("a rollback without forget would leave memory ahead of the table (the case forget exists for)", async () => {
    await runInDurableObject(freshMeter(), (_meter, state) => {
      const sql = state.storage.sql;
      const book = new SpendBook(sql);
      const key = keyOf({ op: "reserve", amount: 0, settled: 0, payer: 0, day: 0, rollsBack: true });
      expect(() =>
        state.storage.transactionSync(() => {
          book.adjust(key, "700", "reserve");
          throw new Error("rolled back");
        }),
      ).toThrow("rolled back");
      expect(new SpendBook(sql).info(T0).daily).toEqual({ settled: "0", reserved: "0" });
      expect(book.info(T0).daily).toEqual({ settled: "0", reserved: "700" });
      book.forget();
      expect(book.info(T0).daily).toEqual({ settled: "0", reserved: "0" });
    });
  });

  it("keeps at most SPEND_ROWS_KEPT rows and reads evicted ones back from the table", async () => {
    await runInDurableObject(freshMeter(), (_meter, state) => {
      const sql = state.storage.sql;
      const book = new SpendBook(sql);
      const day = new Date(T0).toISOString().slice(0, 10);
      const payers = Array.from({ length: SPEND_ROWS_KEPT + 50 }, (_, i) => `0x${i.toString(16).padStart(40, "0")}`);
      for (const [i, payer] of payers.entries()) {
        book.adjust({ day, month: day.slice(0, 7), payer }, String(i + 1), "settle_unreserved");
      }
      expect(book.info(T0).daily.settled).toBe(String((payers.length * (payers.length + 1)) / 2));
      const fresh = new SpendBook(sql);
      for (const payer of [payers[0]!, payers[1]!, payers.at(-1)!]) {
        expect(book.info(T0, payer).payerDaily).toEqual(fresh.info(T0, payer).payerDaily);
      }
      expect(book.info(T0, payers[0]).payerDaily).toEqual({ settled: "1", reserved: "0" });
    });
  });
});
