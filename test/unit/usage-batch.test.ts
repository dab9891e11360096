// The aggregated usage batch, pure: folding events into rows (foldUsage) loses nothing the
// Leaderboard counts (property: the rows' aggregates equal the events' aggregates), and the
// batch parser (parseUsageBatch, outside input) keeps every valid row and drops exactly the bad.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseUsageBatch } from "../../objects/leaderboard/batch-ingest.ts";
import { aggregateBatch, aggregateRows, type BatchAggregates } from "../../objects/leaderboard/events.ts";
import { LATENCY_BUCKETS } from "../../objects/shared/histogram.ts";
import { OUTCOMES } from "../../objects/shared/outcomes.ts";
import { foldUsage, MAX_BATCH_ROWS } from "../../objects/shared/usage-batch.ts";
import type { UsageEvent } from "../../objects/shared/usage-event.ts";
import { usageEvent } from "../support/usage-events.ts";

const NOW = Date.UTC(2026, 10, 23, 12, 30, 0);

/** Valid events of one API: few callers, hours and latencies, so rows really fold. */
const eventArb: fc.Arbitrary<UsageEvent> = fc
  .record({
    ts: fc.integer({ min: NOW - 3 * 3_600_000, max: NOW }),
    caller: fc.constantFrom(
      "0x00000000000000000000000000000000000000aa",
      "0x00000000000000000000000000000000000000AA",
      "ip:x",
      "ip:y",
    ),
    lifecycle: fc.constantFrom(...OUTCOMES),
    countable: fc.boolean(),
    billable: fc.boolean(),
    status: fc.constantFrom(200, 402, 429, 500, 502),
    latencyMs: fc.constantFrom(0, 3, 40, 900, 20_000),
    billedAtomic: fc.constantFrom("0", "1000", "0002500", "1"),
    owner: fc.constantFrom("cr_a", "cr_b"),
    directory: fc.constantFrom("geo", "general"),
    fingerprint: fc.constantFrom(undefined, "v1:aa", "v1:bb"),
    transport: fc.constantFrom(undefined, "http" as const, "mcp" as const),
  })
  .map(({ fingerprint, transport, ...f }) =>
    usageEvent({
      ...f,
      apiId: "prop-api",
      ...(fingerprint ? { fingerprint } : {}),
      ...(transport ? { transport } : {}),
    }),
  );

/** Aggregates with every list in key order (the aggregator's Map order is not a contract). */
function canonical(agg: BatchAggregates): BatchAggregates {
  const key = (x: object) => JSON.stringify(Object.values(x).slice(0, 3));
  const sort = <T extends object>(list: T[]) =>
    [...list].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return {
    apiHours: sort(agg.apiHours),
    transports: sort(agg.transports),
    payerHours: sort(agg.payerHours),
    payerTotals: sort(agg.payerTotals),
    apis: sort(agg.apis),
  };
}

describe("foldUsage", () => {
  it("property: the folded rows aggregate to exactly what the events aggregate to", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 300 }), (events) => {
        const batch = foldUsage("b-1", events);
        expect(batch.rows.reduce((t, r) => t + r.calls, 0)).toBe(events.length);
        expect(canonical(aggregateRows(batch))).toEqual(canonical(aggregateBatch(events)));
      }),
      { numRuns: 200 },
    );
  });

  it("folds like calls into one row and keeps the newest owner and directory", () => {
    const base = usageEvent({ ts: NOW - 10, latencyMs: 40, owner: "cr_old", directory: "old" });
    const newer = { ...base, ts: NOW, owner: "cr_new", directory: "new" };
    const batch = foldUsage("b-2", [base, newer, { ...base, ts: NOW - 20, billedAtomic: "007" }]);
    expect(batch).toEqual({
      batchId: "b-2",
      apiId: base.apiId,
      owner: "cr_new",
      directory: "new",
      rows: [
        {
          hour: Math.floor(NOW / 3_600_000),
          caller: base.caller,
          lifecycle: "payment_settled",
          countable: true,
          billable: true,
          error: false,
          latencyBucket: 5,
          calls: 3,
          billedAtomic: "2007",
          firstTs: NOW - 20,
          lastTs: NOW,
        },
      ],
    });
  });

  it("folds challenges per request fingerprint; each request counts once, a fingerprint-less 402 every time", () => {
    const flags = { lifecycle: "payment_challenged", countable: false, billable: false, billedAtomic: "0" } as const;
    const at = { status: 402, ts: NOW, latencyMs: 1, caller: "ip:x" };
    const c = (fingerprint?: string) => usageEvent({ ...flags, ...at, ...(fingerprint ? { fingerprint } : {}) });
    const events = [c("v1:aa"), c("v1:aa"), c("v1:aa"), c("v1:bb"), c(), c()];
    const batch = foldUsage("b-3", events);
    expect(batch.rows.map((r) => [r.fingerprint, r.calls])).toEqual([
      ["v1:aa", 3],
      ["v1:bb", 1],
      [undefined, 2],
    ]);
    for (const agg of [aggregateBatch(events), aggregateRows(batch)]) {
      expect(agg.apiHours).toHaveLength(1);
      expect(agg.apiHours[0]).toMatchObject({ events: 6, challenges: 4 });
    }
    // A fingerprint on anything but a challenge is not part of the fold.
    const settled = usageEvent({ ts: NOW, latencyMs: 40 });
    expect(foldUsage("b-4", [settled, { ...settled, fingerprint: "v1:aa" }]).rows).toHaveLength(1);
  });

  it("refuses no events, events of two APIs and more rows than a batch holds", () => {
    expect(() => foldUsage("x", [])).toThrow(RangeError);
    expect(() => foldUsage("x", [usageEvent({ apiId: "a" }), usageEvent({ apiId: "b" })])).toThrow(/one API/);
    const many = Array.from({ length: MAX_BATCH_ROWS + 1 }, (_, i) => usageEvent({ caller: `ip:${i}` }));
    expect(() => foldUsage("x", many)).toThrow(/at most 1000 rows/);
    expect(foldUsage("x", many.slice(0, MAX_BATCH_ROWS)).rows).toHaveLength(MAX_BATCH_ROWS);
  });
});

describe("parseUsageBatch (outside input)", () => {
  const badValues: Record<string, unknown[]> = {
    hour: [-1, 1.5, "1", null],
    caller: ["", "x".repeat(129), 7],
    lifecycle: ["teleported", null],
    countable: ["true", 1],
    billable: [0],
    error: ["no"],
    latencyBucket: [-1, LATENCY_BUCKETS, 0.5],
    calls: [0, -3, 1.5, 2_000_000_000],
    billedAtomic: ["1.5", "-1", "", "1".repeat(79), 5],
    firstTs: [-1, 0.5],
    lastTs: ["now"],
  };
  const fieldArb = fc.constantFrom(...Object.keys(badValues));

  it("property: a folded batch parses back unchanged", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 100 }), (events) => {
        const batch = foldUsage("p-1", events);
        expect(parseUsageBatch(JSON.parse(JSON.stringify(batch)))).toEqual({ batch, rejected: 0 });
      }),
      { numRuns: 100 },
    );
  });

  it("property: a row with any one bad field is dropped, every other row kept", () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { minLength: 2, maxLength: 60 }),
        fieldArb,
        fc.nat(),
        fc.nat(),
        (events, field, pick, at) => {
          const batch = foldUsage("p-2", events);
          const values = badValues[field]!;
          const i = at % batch.rows.length;
          const rows: unknown[] = batch.rows.map((r, k) =>
            k === i ? { ...r, [field]: values[pick % values.length] } : r,
          );
          const parsed = parseUsageBatch({ ...batch, rows });
          expect(parsed.rejected).toBe(1);
          expect(parsed.batch?.rows).toEqual(batch.rows.filter((_, k) => k !== i));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("a bad header rejects every row; a non-batch or an oversized one throws", () => {
    const batch = foldUsage("h-1", [usageEvent(), usageEvent({ caller: "ip:z" })]);
    for (const header of [
      { batchId: "" },
      { batchId: "x".repeat(129) },
      { apiId: "" },
      { owner: 1 },
      { directory: "d".repeat(65) },
    ]) {
      expect(parseUsageBatch({ ...batch, ...header })).toEqual({ batch: null, rejected: 2 });
    }
    for (const raw of [null, "x", 1, [], { ...batch, rows: {} }]) expect(() => parseUsageBatch(raw)).toThrow(TypeError);
    expect(() => parseUsageBatch({ ...batch, rows: Array(MAX_BATCH_ROWS + 1).fill(batch.rows[0]) })).toThrow(
      RangeError,
    );
  });
});
