// The dispatcher's usage fold and the meter's plan of a batch, pure (objects/meter/usage-fold.ts,
// usage-plan.ts): folding any split of a record list and merging the parts in order gives the
// fold of the whole, and what the meter writes from the rows equals what one-call-at-a-time
// recording would have written (computed here from the records themselves, not from the fold).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LATENCY_BUCKETS, latencyBucket } from "../../objects/shared/histogram.ts";
import { OUTCOME_TRAITS, OUTCOMES } from "../../objects/shared/outcomes.ts";
import { HOUR_MS, utcDayKey } from "../../objects/shared/time.ts";
import type { UsageRecord } from "../../objects/meter/types.ts";
import { parseAggregate } from "../../objects/meter/usage-aggregate.ts";
import { addRow, foldRecords, mergeFolds, rowOf, sortedRows } from "../../objects/meter/usage-fold.ts";
import { leaderboardRows, planUsage } from "../../objects/meter/usage-plan.ts";

const NOW = Date.UTC(2026, 10, 23, 23, 30, 0);

const recordArb: fc.Arbitrary<UsageRecord> = fc
  .record({
    ts: fc.integer({ min: NOW - 3 * HOUR_MS, max: NOW + 2 * HOUR_MS }),
    caller: fc.constantFrom("ip:a", "ip:b", "0xAbCd000000000000000000000000000000000001"),
    status: fc.constantFrom(200, 402, 429, 500, 503),
    latencyMs: fc.constantFrom(0, 3, 40, 900, 20_000),
    outcome: fc.constantFrom(...OUTCOMES),
    fingerprint: fc.constantFrom(undefined, "v1:aa", "v1:bb"),
    callerLabel: fc.constantFrom(undefined, "bot-a", "bot-b"),
    transport: fc.constantFrom(undefined, "http" as const, "mcp" as const),
  })
  .map((r) => {
    const { ts, caller, status, latencyMs, outcome } = r;
    const out: UsageRecord = { requestId: `r${ts}`, ts, caller, status, latencyMs, outcome };
    if (r.fingerprint !== undefined) out.fingerprint = r.fingerprint;
    if (r.callerLabel !== undefined) out.callerLabel = r.callerLabel;
    if (r.transport !== undefined) out.transport = r.transport;
    return out;
  });

/** A list and cut points: the list split into consecutive parts. */
const splitArb = fc
  .array(recordArb, { maxLength: 200 })
  .chain((records) =>
    fc
      .uniqueArray(fc.integer({ min: 0, max: records.length }), { maxLength: 6 })
      .map((cuts) => ({ records, cuts: [...cuts].sort((a, b) => a - b) })),
  );

function parts<T>(list: T[], cuts: number[]): T[][] {
  const out: T[][] = [];
  let from = 0;
  for (const c of [...cuts, list.length]) {
    out.push(list.slice(from, c));
    from = c;
  }
  return out;
}

/** What usage-stats.ts `record` writes, one record at a time: the per-call truth. */
function perCallTruth(records: UsageRecord[]) {
  const hours = new Map<number, { calls: number; served: number; errors: number; refused: number; hist: number[] }>();
  const days = new Set<string>();
  const transports = new Map<string, number>();
  for (const r of records) {
    if (!OUTCOME_TRAITS[r.outcome].call) continue;
    const hour = Math.floor(r.ts / HOUR_MS);
    const empty = () => ({ calls: 0, served: 0, errors: 0, refused: 0, hist: Array<number>(LATENCY_BUCKETS).fill(0) });
    const h = hours.get(hour) ?? empty();
    hours.set(hour, h);
    h.calls += 1;
    if (r.outcome === "served" || r.outcome === "payment_settled") h.served += 1;
    if (r.status >= 500 || r.outcome === "tenant_error") h.errors += 1;
    if (OUTCOME_TRAITS[r.outcome].refusedStat) h.refused += 1;
    else h.hist[latencyBucket(r.latencyMs)]! += 1;
    days.add(`${utcDayKey(r.ts)}|${r.caller}`);
    const t = `${hour}|${r.transport ?? "http"}`;
    transports.set(t, (transports.get(t) ?? 0) + 1);
  }
  return { hours, days, transports };
}

describe("the usage fold", () => {
  it("property: the fold of any split, merged in order, is the fold of the whole", () => {
    fc.assert(
      fc.property(splitArb, ({ records, cuts }) => {
        const whole = foldRecords(records);
        const merged = mergeFolds(parts(records, cuts).map((p) => foldRecords(p)));
        expect(sortedRows(merged)).toEqual(sortedRows(whole));
        expect([...whole.values()].reduce((n, r) => n + r.calls, 0)).toBe(records.length);
      }),
      { numRuns: 300 },
    );
  });

  it("property: the meter's plan of the rows equals recording the calls one at a time", () => {
    fc.assert(
      fc.property(splitArb, ({ records }) => {
        const plan = planUsage(sortedRows(foldRecords(records)));
        const truth = perCallTruth(records);
        const hours = new Map(plan.hours.map(({ hour, ...h }) => [hour, h]));
        expect(hours).toEqual(truth.hours);
        expect(new Set(plan.callerDays.map((d) => `${d.day}|${d.caller}`))).toEqual(truth.days);
        expect(new Map(plan.transports.map(([h, t, n]) => [`${h}|${t}`, n]))).toEqual(truth.transports);
        // The forwarded rows carry every call but the settled ones (their event comes from commit).
        const forwarded = leaderboardRows(sortedRows(foldRecords(records)), "0").reduce((n, r) => n + r.calls, 0);
        expect(forwarded).toBe(records.filter((r) => r.outcome !== "payment_settled").length);
      }),
      { numRuns: 200 },
    );
  });

  it("keys challenges by fingerprint, keeps the earliest label, and caps the rows of a batch", () => {
    const challenged = { status: 402, latencyMs: 4, outcome: "payment_challenged" } as const;
    const base: UsageRecord = { requestId: "a", ts: NOW, caller: "ip:a", ...challenged };
    const fold = foldRecords([
      { ...base, fingerprint: "v1:aa", callerLabel: "late", ts: NOW + 5 },
      { ...base, fingerprint: "v1:aa", callerLabel: "early" },
      { ...base, fingerprint: "v1:bb" },
      { ...base, fingerprint: "x".repeat(129) }, // not a fingerprint: counts without one
    ]);
    const rows = sortedRows(fold);
    expect(rows.map((r) => [r.fingerprint, r.calls, r.label])).toEqual([
      [undefined, 1, undefined],
      ["v1:aa", 2, "early"],
      ["v1:bb", 1, undefined],
    ]);
    expect(addRow(fold, rowOf({ ...base, caller: "ip:new" }), 3)).toBe(false);
    expect(addRow(fold, rowOf({ ...base, fingerprint: "v1:bb" }), 3)).toBe(true);
  });

  it("a served free call ranks; a 5xx is an error; the caller is lowercased for the Leaderboard", () => {
    const r: UsageRecord = { requestId: "b", ts: NOW, caller: "0xABC", status: 503, latencyMs: 9, outcome: "served" };
    const [row] = leaderboardRows(sortedRows(foldRecords([r])), "0");
    expect(row).toMatchObject({ caller: "0xabc", countable: true, error: true, transport: "http", calls: 1 });
    expect(leaderboardRows(sortedRows(foldRecords([r])), "1000")[0]!.countable).toBe(false);
  });
});

describe("parseAggregate (the meter's input check)", () => {
  it("keeps valid rows, counts the bad ones, and refuses what is not a batch", () => {
    const good = rowOf({ requestId: "c", ts: NOW, caller: "ip:a", status: 200, latencyMs: 3, outcome: "served" });
    const rows = [good, { ...good, calls: 0 }, { ...good, transport: "ws" }];
    const parsed = parseAggregate({ batchId: "iso:1", rows });
    expect(parsed).toEqual({ batchId: "iso:1", rows: [good], rejected: 2 });
    expect(parseAggregate({ batchId: "", rows: [] })).toBeNull();
    expect(parseAggregate({ batchId: "x", rows: Array(1001).fill(good) })).toBeNull();
    expect(parseAggregate("nope")).toBeNull();
  });

  it("property: any JSON value is parsed or refused, never thrown", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(fc.jsonValue(), { maxLength: 5 }), (id, rows) => {
        for (const raw of [id, { batchId: id, rows }, { batchId: "b", rows }]) {
          const r = parseAggregate(raw);
          if (r) expect(r.rows.length + r.rejected).toBe((raw as { rows: unknown[] }).rows.length);
        }
      }),
    );
  });
});
