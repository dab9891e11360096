// Aggregated usage batches through the real Leaderboard DO (workerd): a known mix of calls folded
// into batches (foldUsage) records exactly what the same calls record one event at a time; each
// batch applies once per (apiId, batchId), across redeliveries, concurrent copies and restarts;
// bad input is refused or counted, never half-applied.
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEDUPE_RETENTION_MS } from "../../objects/leaderboard/dedupe.ts";
import type { Leaderboard } from "../../objects/leaderboard/leaderboard.ts";
import { buildSnapshot } from "../../objects/leaderboard/snapshot.ts";
import { linkedPairs } from "../../objects/leaderboard/snapshot-merge.ts";
import type { Catalog, ShardExport } from "../../objects/leaderboard/snapshot-types.ts";
import { windowRanges } from "../../objects/leaderboard/windows.ts";
import { foldUsage, MAX_BATCH_ROWS, type UsageBatch } from "../../objects/shared/usage-batch.ts";
import type { UsageEvent } from "../../objects/shared/usage-event.ts";
import { knownMix } from "../support/usage-mix.ts";

const YEAR = new Date().getUTCFullYear() + 3;
const NOW = Date.UTC(YEAR, 2, 4, 15, 30, 0);
const LINKED = "0x00000000000000000000000000000000000000ee";

function shard(): DurableObjectStub<Leaderboard> {
  return env.LEADERBOARD.get(env.LEADERBOARD.idFromName(`lb-batch-${crypto.randomUUID()}`));
}

function catalogOf(apis: string[]): Catalog {
  return {
    apis: apis.map((slug) => ({
      slug,
      owner: `cr_${slug}`,
      directory: "general",
      description: slug,
      resourceType: "dataset",
      paid: true,
      priceAtomic: "1000",
      decimals: 6,
      network: "eip155:84532",
      payTo: null,
      hosts: [],
      accepts: [],
      updatedAt: NOW,
    })),
    linkedByOwner: new Map(apis.map((slug) => [`cr_${slug}`, new Set([LINKED])])),
    ownerBySlug: new Map(apis.map((slug) => [slug, `cr_${slug}`])),
  };
}

/** The events of each API folded into batches of `size` events, ids `<api>-<n>`. */
function batchesOf(events: readonly UsageEvent[], size: number): UsageBatch[] {
  const byApi = new Map<string, UsageEvent[]>();
  for (const e of events) {
    const list = byApi.get(e.apiId);
    if (list) list.push(e);
    else byApi.set(e.apiId, [e]);
  }
  const out: UsageBatch[] = [];
  for (const [apiId, list] of byApi) {
    for (let i = 0; i < list.length; i += size) out.push(foldUsage(`${apiId}-${i / size}`, list.slice(i, i + size)));
  }
  return out;
}

async function exportOf(stub: DurableObjectStub<Leaderboard>, cat: Catalog): Promise<ShardExport> {
  const ex = await stub.exportWindows({
    shard: "s",
    ranges: windowRanges(NOW),
    linked: JSON.stringify(linkedPairs(cat)),
  });
  return sortedExport(ex);
}

/** Every aggregate row the shard stored, in key order. */
function storedAggregates(stub: DurableObjectStub<Leaderboard>): Promise<Record<string, unknown[]>> {
  const tables = {
    apis: "SELECT * FROM apis ORDER BY api_id",
    api_hours: "SELECT * FROM api_hours ORDER BY api_id, hour",
    payer_hours: "SELECT * FROM payer_hours ORDER BY api_id, payer, hour",
    payer_totals: "SELECT * FROM payer_totals ORDER BY api_id, payer",
  };
  return runInDurableObject(stub, (_lb: Leaderboard, state) =>
    Object.fromEntries(Object.entries(tables).map(([t, q]) => [t, state.storage.sql.exec(q).toArray()])),
  );
}

/** Row order of GROUP BY output is not a contract: compare sorted. */
function sortedExport(ex: ShardExport): ShardExport {
  const by =
    <T>(key: (t: T) => string) =>
    (a: T, b: T) =>
      key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
  const windows = Object.fromEntries(
    Object.entries(ex.windows).map(([w, x]) => [
      w,
      { pairs: [...x.pairs].sort(by((p) => `${p.apiId} ${p.payer}`)), apis: [...x.apis].sort(by((a) => a.apiId)) },
    ]),
  ) as ShardExport["windows"];
  return {
    ...ex,
    apis: [...ex.apis].sort(by((a) => a.apiId)),
    firstSeen: [...ex.firstSeen].sort(by((f) => f.payer)),
    windows,
  };
}

describe("aggregated usage batches", () => {
  it("a known mix folded into batches records exactly what its events record one by one", async () => {
    const apis = ["mix-a", "mix-b", "mix-c", "mix-dense"];
    // Ten days of sparse traffic, and two dense hours on their own API that fold many calls per row.
    const dense = { spanMs: 2 * 3_600_000, callers: 4, latencies: [40, 41] };
    const events = [
      ...knownMix({ seed: 7, count: 1500, now: NOW, apis: apis.slice(0, 3), linked: LINKED }),
      ...knownMix({ seed: 8, count: 1500, now: NOW - 3 * 3_600_000, apis: ["mix-dense"], linked: LINKED, ...dense }),
    ];
    const perEvent = shard();
    const batched = shard();
    for (let i = 0; i < events.length; i += 1000) await perEvent.ingest(events.slice(i, i + 1000));
    const batches = batchesOf(events, 400);
    let calls = 0;
    for (const b of batches) calls += (await batched.ingestBatch(b)).accepted;
    expect(calls).toBe(events.length);
    // Folding must actually fold, or this test would only repeat the per-event one.
    expect(batches.reduce((t, b) => t + b.rows.length, 0)).toBeLessThan(events.length * 0.75);
    const cat = catalogOf(apis);
    const a = await exportOf(perEvent, cat);
    const b = await exportOf(batched, cat);
    expect(b).toEqual(a);
    expect(a.windows.overall.apis.map((x) => x.events)).toEqual([500, 500, 500, 1500]);
    const stored = await storedAggregates(perEvent);
    expect(stored.payer_totals!.length).toBeGreaterThan(30);
    expect(await storedAggregates(batched)).toEqual(stored);
    expect(buildSnapshot(cat, [b], NOW)).toEqual(buildSnapshot(cat, [a], NOW));
  });

  it("a batch applies once per (apiId, batchId): redeliveries and concurrent copies count as duplicates", async () => {
    const stub = shard();
    const events = knownMix({ seed: 3, count: 300, now: NOW, apis: ["once-api"], linked: LINKED });
    const batch = foldUsage("once-1", events);
    const copies = await Promise.all(Array.from({ length: 5 }, () => stub.ingestBatch(batch)));
    expect(copies.map((r) => r.accepted).sort((x, y) => y - x)).toEqual([300, 0, 0, 0, 0]);
    expect(copies.reduce((t, r) => t + r.duplicates, 0)).toBe(4 * 300);
    expect(await stub.ingestBatch(batch)).toEqual({ accepted: 0, duplicates: 300, rejected: 0 });
    const before = await exportOf(stub, catalogOf(["once-api"]));
    expect(before.windows.overall.apis[0]!.events).toBe(300);
    // The same id from another API is another batch.
    const other = foldUsage(
      "once-1",
      events.map((e) => ({ ...e, apiId: "once-other" })),
    );
    expect(await stub.ingestBatch(other)).toEqual({ accepted: 300, duplicates: 0, rejected: 0 });
    expect(
      (await exportOf(stub, catalogOf(["once-api"]))).windows.overall.apis.find((x) => x.apiId === "once-api"),
    ).toEqual(before.windows.overall.apis[0]);
    expect((await stub.recentEvents({ limit: 10 })).counters).toEqual({ accepted: 600, duplicates: 1500, rejected: 0 });
  });

  it("refuses a non-batch and an oversized batch; counts bad rows; a bad header applies and claims nothing", async () => {
    const stub = shard();
    const batch = foldUsage("v-1", knownMix({ seed: 5, count: 50, now: NOW, apis: ["val-api"], linked: LINKED }));
    const huge = { ...batch, rows: Array.from({ length: MAX_BATCH_ROWS + 1 }, () => batch.rows[0]) };
    const thrown = await runInDurableObject(stub, (lb: Leaderboard) =>
      [() => lb.ingestBatch("nope"), () => lb.ingestBatch({ ...batch, rows: "x" }), () => lb.ingestBatch(huge)].map(
        (f) => {
          try {
            f();
            return "";
          } catch (err) {
            return String(err);
          }
        },
      ),
    );
    expect(thrown[0]).toMatch(/TypeError: .*usage batch/);
    expect(thrown[1]).toMatch(/TypeError: .*usage batch/);
    expect(thrown[2]).toMatch(/RangeError: .*at most 1000 rows/);

    const rows = batch.rows.length;
    expect(await stub.ingestBatch({ ...batch, batchId: "" })).toEqual({ accepted: 0, duplicates: 0, rejected: rows });
    expect(await stub.ingestBatch({ ...batch, apiId: 7 })).toEqual({ accepted: 0, duplicates: 0, rejected: rows });
    const row = batch.rows[0];
    const bad = [{ ...row, calls: 0 }, { ...row, lifecycle: "teleported" }, { ...row, billedAtomic: "1.5" }, null];
    const result = await stub.ingestBatch({ ...batch, rows: [...batch.rows, ...bad] });
    expect(result).toEqual({ accepted: 50, duplicates: 0, rejected: 4 });
    expect((await exportOf(stub, catalogOf(["val-api"]))).windows.overall.apis[0]!.events).toBe(50);
  });

  it("aborted mid-ingest: every batch redelivered until acknowledged is recorded once", async () => {
    const name = `lb-batch-restart-${crypto.randomUUID()}`;
    const stubOf = () => env.LEADERBOARD.get(env.LEADERBOARD.idFromName(name));
    const events = knownMix({ seed: 11, count: 6000, now: NOW, apis: ["rs-a", "rs-b"], linked: LINKED });
    const batches = batchesOf(events, 200);
    const deliver = async (b: UsageBatch): Promise<number> => {
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          return (await stubOf().ingestBatch(b)).accepted;
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      throw new Error("batch never delivered");
    };
    await stubOf().ingestBatch(batches[0]!); // the object exists before it is killed
    const inFlight = batches.map((b) => deliver(b));
    await new Promise((r) => setTimeout(r, 5));
    await abortAllDurableObjects();
    const first = (await Promise.all(inFlight)).reduce((t, n) => t + n, 0);
    const again = (await Promise.all(batches.map((b) => deliver(b)))).reduce((t, n) => t + n, 0);
    expect(first + batches[0]!.rows.reduce((t, r) => t + r.calls, 0)).toBe(6000);
    expect(again).toBe(0);
    const reference = shard();
    for (let i = 0; i < events.length; i += 1000) await reference.ingest(events.slice(i, i + 1000));
    const cat = catalogOf(["rs-a", "rs-b"]);
    expect(await exportOf(stubOf(), cat)).toEqual(await exportOf(reference, cat));
  });

  it("shard housekeeping prunes batch ids past the retention, keeps fresh ones", async () => {
    const stub = shard();
    // Stamped now (the real clock): a batch only keeps the shard's housekeeping alarm while held.
    const mix = knownMix({ seed: 2, count: 20, now: Date.now(), apis: ["prune-api"], linked: LINKED });
    const fresh = foldUsage("keep-1", mix);
    expect((await stub.ingestBatch(fresh)).accepted).toBe(20);
    await runInDurableObject(stub, (_lb: Leaderboard, state) => {
      const old = Date.now() - DEDUPE_RETENTION_MS - 1000;
      state.storage.sql.exec("INSERT INTO batches (api_id, batch_id, seen_ms) VALUES ('prune-api', 'old-1', ?)", old);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const held = await runInDurableObject(stub, (_lb: Leaderboard, state) =>
      state.storage.sql
        .exec<{ batch_id: string }>("SELECT batch_id FROM batches ORDER BY batch_id")
        .toArray()
        .map((r) => r.batch_id),
    );
    expect(held).toEqual(["keep-1"]);
    expect(await stub.ingestBatch(fresh)).toEqual({ accepted: 0, duplicates: 20, rejected: 0 });
  });
});
