// Coalescing of the meter's usage outbox inside workerd (docs/ARCHITECTURE.md §4, §14): the
// dispatcher batches a real TenantMeter queued for the Leaderboard are merged into one delivery
// batch, sealed (written under its new id) before anything is sent. A crash between seal and send
// (abortAllDurableObjects drops every in-memory state) resends the same id and rows; a failed send
// is retried with the same bodies and rows queued meanwhile are sealed apart, never merged into
// what may already have arrived. The real Leaderboard counts every call once.
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { leaderboardFor } from "../../objects/leaderboard/shards.ts";
import { Outbox } from "../../objects/meter/outbox.ts";
import type { TenantMeter } from "../../objects/meter/tenant-meter.ts";
import type { UsageRecord } from "../../objects/meter/types.ts";
import { UsageCoalescer } from "../../objects/meter/usage-coalesce.ts";
import { rowOf } from "../../objects/meter/usage-fold.ts";
import { AlarmScheduler } from "../../objects/shared/alarm.ts";
import { cfg } from "./meter-helpers.ts";

type Meter = DurableObjectStub<TenantMeter>;
interface Queued {
  seq: number;
  body: { batchId: string; sealed?: boolean; rows: { calls: number }[] };
}

/** A fresh stub each time: stubs made before abortAllDurableObjects() are broken after it. */
const meterOf = (slug: string) => env.TENANT_METER.get(env.TENANT_METER.idFromName(slug)) as Meter;

async function eventMeter(): Promise<{ slug: string; meter: Meter }> {
  const slug = `coalesce-${crypto.randomUUID().slice(0, 8)}`;
  const meter = meterOf(slug);
  const events = { owner: "cr_coalesce", directory: "geo", network: "eip155:84532", env: "test" as const };
  expect(await meter.configure(cfg({ slug, events }))).toMatchObject({ applied: true });
  return { slug, meter };
}

/** `n` dispatcher batches of `calls` served calls each, callers repeating across batches. */
async function applyBatches(meter: Meter, n: number, calls: number): Promise<number> {
  const ts = Date.now();
  for (let b = 0; b < n; b++) {
    const records: UsageRecord[] = Array.from({ length: calls }, (_, i) => ({
      requestId: `r-${b}-${i}`,
      ts,
      caller: `ip:caller-${i % 4}`,
      status: 200,
      latencyMs: 40,
      outcome: "served",
    }));
    const rows = records.map(rowOf);
    const result = await meter.applyUsage({ batchId: `iso:${crypto.randomUUID()}:${b}`, rows });
    expect(result).toMatchObject({ applied: true, calls });
  }
  return n * calls;
}

function queued(meter: Meter): Promise<Queued[]> {
  return runInDurableObject(meter, (_i, state) =>
    state.storage.sql
      .exec<{ seq: number; body: string }>("SELECT seq, body FROM outbox WHERE kind = 'usage' ORDER BY seq")
      .toArray()
      .map((r) => ({ seq: r.seq, body: JSON.parse(r.body) as Queued["body"] })),
  );
}

/** The real coalescer over the meter's own storage, as its outbox runs it before a delivery. */
function sealNow(meter: Meter): Promise<number | null> {
  return runInDurableObject(meter, (_i, state) =>
    new UsageCoalescer(state.storage.sql, (fn) => state.storage.transactionSync(fn)).seal(500, Date.now()),
  );
}

/** What the shard holds for the API: batch ids and events counted. */
function shardOf(slug: string): Promise<{ batchIds: string[]; events: number }> {
  return runInDurableObject(leaderboardFor(env, slug), (_i, state) => {
    const sql = state.storage.sql;
    const ids = sql.exec<{ batch_id: string }>("SELECT batch_id FROM batches WHERE api_id = ? ORDER BY 1", slug);
    const events = sql.exec<{ n: number | null }>("SELECT SUM(events) AS n FROM api_hours WHERE api_id = ?", slug);
    return { batchIds: ids.toArray().map((r) => r.batch_id), events: events.one().n ?? 0 };
  });
}

const calls = (b: Queued["body"]) => b.rows.reduce((t, r) => t + r.calls, 0);
const unsealed = ({ sealed: _s, ...batch }: Queued["body"]) => batch;

describe("the meter coalesces its usage outbox, sealed before sent", () => {
  it("a crash between seal and send resends the same id and rows; the Leaderboard counts once", async () => {
    const { slug, meter } = await eventMeter();
    const total = await applyBatches(meter, 6, 10);
    expect(await queued(meter)).toHaveLength(6);
    await sealNow(meter);
    const sealed = await queued(meter);
    // Six dispatcher batches of four distinct rows each: one delivery batch of four rows.
    expect(sealed).toHaveLength(1);
    expect(sealed[0]!.body).toMatchObject({ sealed: true, batchId: expect.stringMatching(/^meter:/) });
    expect(sealed[0]!.body.rows).toHaveLength(4);
    expect(calls(sealed[0]!.body)).toBe(total);

    await abortAllDurableObjects(); // the "crash": every in-memory state is gone
    const after = await shardOf(slug);
    if (after.batchIds.length === 0) expect(await queued(meterOf(slug))).toEqual(sealed); // waiting, unchanged
    expect((await meterOf(slug).deliverUsageEvents()).remaining).toBe(0);
    expect(await shardOf(slug)).toEqual({ batchIds: [sealed[0]!.body.batchId], events: total });
    // A redelivery of what was sealed (the send went through but its answer was lost) adds nothing.
    const again = await leaderboardFor(env, slug).ingestBatches([unsealed(sealed[0]!.body)]);
    expect(again).toEqual({ accepted: 0, duplicates: total, rejected: 0 });
    expect((await shardOf(slug)).events).toBe(total);
  });

  it("a failed send is retried with the same bodies; batches queued meanwhile are sealed apart", async () => {
    const { meter } = await eventMeter();
    // The meter's own alarm (real clock, 1 s after an append) is cancelled: only these drains send.
    const noAlarm = () => runInDurableObject(meter, (_i, state) => state.storage.deleteAlarm());
    const first = await applyBatches(meter, 3, 8);
    await noAlarm();
    const sends: string[][] = [];
    // The meter's Outbox over its own storage, with a receiver that fails its first delivery.
    const drain = (failFirst: boolean) =>
      runInDurableObject(meter, async (_i, state) => {
        const coalescer = new UsageCoalescer(state.storage.sql, (fn) => state.storage.transactionSync(fn));
        const channel = {
          kind: "usage" as const,
          batchRows: 500,
          maxBatches: 20,
          appendDelayMs: 60_000,
          idleDelayMs: 60_000,
          seal: (limit: number, now: number) => coalescer.seal(limit, now),
          target: () => async (bodies: string[]) => {
            sends.push(bodies);
            if (failFirst && sends.length === 1) throw new Error("leaderboard unreachable");
          },
        };
        return new Outbox(state.storage.sql, new AlarmScheduler(state.storage), [channel]).drain("usage");
      });
    expect(await drain(true)).toMatchObject({ sent: 0, remaining: 1, error: "leaderboard unreachable" });
    const second = await applyBatches(meter, 2, 5);
    await noAlarm();
    expect(await drain(false)).toMatchObject({ sent: 2, remaining: 0 });
    expect(sends).toHaveLength(2);
    const [failed, retried] = sends.map((s) => s.map((b) => JSON.parse(b) as Queued["body"]));
    expect(failed).toHaveLength(1);
    // The retry starts with exactly the failed body; the new batches are a delivery batch of their own.
    expect(retried![0]).toEqual(failed![0]);
    expect(calls(failed![0]!)).toBe(first);
    expect(retried).toHaveLength(2);
    expect(retried![1]!.batchId).not.toBe(failed![0]!.batchId);
    expect(calls(retried![1]!)).toBe(second);
  });
});
