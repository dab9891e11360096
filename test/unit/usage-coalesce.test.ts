// Coalescing aggregated usage batches, pure (objects/shared/usage-batch.ts mergeUsageRows,
// objects/meter/usage-coalesce.ts sealGroup): merging the rows of many batches loses nothing the
// Leaderboard counts (property: the merged rows aggregate to what the calls aggregate to), a
// merge is cut into batches of at most MAX_BATCH_ROWS rows, and a lone batch is sealed unchanged.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { aggregateBatch, aggregateRows, type BatchAggregates } from "../../objects/leaderboard/events.ts";
import { sealGroup } from "../../objects/meter/usage-coalesce.ts";
import { OUTCOMES } from "../../objects/shared/outcomes.ts";
import { foldUsage, MAX_BATCH_ROWS, mergeUsageRows, type UsageBatch } from "../../objects/shared/usage-batch.ts";
import type { UsageEvent } from "../../objects/shared/usage-event.ts";
import { usageEvent } from "../support/usage-events.ts";

const NOW = Date.UTC(2026, 10, 23, 12, 30, 0);

const eventArb: fc.Arbitrary<UsageEvent> = fc
  .record({
    ts: fc.integer({ min: NOW - 3 * 3_600_000, max: NOW }),
    caller: fc.constantFrom("0x00000000000000000000000000000000000000aa", "ip:x", "ip:y"),
    lifecycle: fc.constantFrom(...OUTCOMES),
    countable: fc.boolean(),
    billable: fc.boolean(),
    status: fc.constantFrom(200, 402, 500),
    latencyMs: fc.constantFrom(0, 40, 900),
    billedAtomic: fc.constantFrom("0", "1000", "0002500"),
    fingerprint: fc.constantFrom(undefined, "v1:aa", "v1:bb"),
    transport: fc.constantFrom(undefined, "http" as const, "mcp" as const),
  })
  .map(({ fingerprint, transport, ...f }) =>
    usageEvent({
      ...f,
      apiId: "merge-api",
      owner: "cr_merge",
      directory: "geo",
      ...(fingerprint ? { fingerprint } : {}),
      ...(transport ? { transport } : {}),
    }),
  );

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

/** The events folded `size` at a time, as dispatcher intervals would. */
function intervals(events: readonly UsageEvent[], size: number): UsageBatch[] {
  const out: UsageBatch[] = [];
  for (let i = 0; i < events.length; i += size) out.push(foldUsage(`b-${i}`, events.slice(i, i + size)));
  return out;
}

describe("mergeUsageRows", () => {
  it("property: merged rows aggregate to exactly what the calls aggregate to, with no key twice", () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 40 }),
        (events, k) => {
          const batches = intervals(events, k);
          const merged = mergeUsageRows(batches.map((b) => b.rows));
          expect(merged.reduce((t, r) => t + r.calls, 0)).toBe(events.length);
          expect(merged.length).toBeLessThanOrEqual(batches.reduce((t, b) => t + b.rows.length, 0));
          // Merging the intervals is folding all the calls at once.
          expect(merged).toHaveLength(foldUsage("all", events).rows.length);
          const batch = { ...batches[0]!, rows: merged };
          expect(canonical(aggregateRows(batch))).toEqual(canonical(aggregateBatch(events)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("sums calls and money and widens the time range; leaves its inputs alone", () => {
    const e = usageEvent({ ts: NOW, latencyMs: 40, billedAtomic: "1000" });
    const a = foldUsage("a", [e, { ...e, ts: NOW - 5 }]);
    const b = foldUsage("b", [{ ...e, ts: NOW + 7, billedAtomic: "0250" }]);
    const before = JSON.stringify([a, b]);
    const [row, ...rest] = mergeUsageRows([a.rows, b.rows]);
    expect(rest).toEqual([]);
    expect(row).toMatchObject({ calls: 3, billedAtomic: "2250", firstTs: NOW - 5, lastTs: NOW + 7 });
    expect(JSON.stringify([a, b])).toBe(before);
  });
});

describe("sealGroup", () => {
  it("a lone batch is sealed as it is, with its own id", () => {
    const lone = foldUsage("dispatcher:1", [usageEvent({ ts: NOW })]);
    expect(sealGroup([lone], () => "new")).toEqual([lone]);
  });

  it("several batches become merged batches of at most MAX_BATCH_ROWS rows, each under a new id", () => {
    const callers = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => usageEvent({ ts: NOW, latencyMs: 40, caller: `ip:${from + i}` }));
    // 3 batches of 900 callers, two overlaps of 300: 2,100 distinct rows of 2,700 calls.
    const batches = [callers(0, 900), callers(600, 900), callers(1200, 900)].map((e, i) => foldUsage(`d:${i}`, e));
    let n = 0;
    const sealed = sealGroup(batches, () => `meter:${++n}`);
    expect(sealed.map((b) => [b.batchId, b.rows.length])).toEqual([
      ["meter:1", MAX_BATCH_ROWS],
      ["meter:2", MAX_BATCH_ROWS],
      ["meter:3", 2100 - 2 * MAX_BATCH_ROWS],
    ]);
    expect(sealed.every((b) => b.apiId === batches[0]!.apiId && b.owner === batches[0]!.owner)).toBe(true);
    expect(sealed.flatMap((b) => b.rows).reduce((t, r) => t + r.calls, 0)).toBe(2700);
  });
});
