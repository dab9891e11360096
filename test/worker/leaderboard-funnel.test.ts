// The 402 → paid funnel through the real Leaderboard DO (workerd): challenges count once per (API,
// hour, caller, request fingerprint), in the per-event path and in aggregated batches alike, so a
// client that repeats its unpaid request cannot pull the conversion down; distinct requests,
// callers and hours still count apart; challenges without a fingerprint count every 402; the
// keys are pruned by hour after the dedupe retention; a shard's legacy full keys carry over.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { challengeDigest, migrateChallengeKeys } from "../../objects/leaderboard/challenge-keys.ts";
import { DEDUPE_RETENTION_MS, hasKeys, pruneKeys } from "../../objects/leaderboard/dedupe.ts";
import type { Leaderboard } from "../../objects/leaderboard/leaderboard.ts";
import { buildSnapshot } from "../../objects/leaderboard/snapshot.ts";
import { linkedPairs } from "../../objects/leaderboard/snapshot-merge.ts";
import type { Catalog, WindowMetrics } from "../../objects/leaderboard/snapshot-types.ts";
import { windowRanges } from "../../objects/leaderboard/windows.ts";
import { requestFingerprint } from "../../objects/meter/fingerprint.ts";
import { foldUsage } from "../../objects/shared/usage-batch.ts";
import type { UsageEvent } from "../../objects/shared/usage-event.ts";
import { usageEvent } from "../support/usage-events.ts";

const YEAR = new Date().getUTCFullYear() + 3;
const NOW = Date.UTC(YEAR, 7, 20, 12, 0, 0);
const HOUR = 3_600_000;
const API = "funnel-api";
const PAYERS = Array.from({ length: 5 }, (_, i) => `0x${String(i + 1).padStart(40, "a")}`);

function shard(): DurableObjectStub<Leaderboard> {
  return env.LEADERBOARD.get(env.LEADERBOARD.idFromName(`lb-funnel-${crypto.randomUUID()}`));
}

const catalog: Catalog = {
  apis: [
    {
      slug: API,
      owner: `cr_${API}`,
      directory: "general",
      description: API,
      resourceType: "dataset",
      paid: true,
      priceAtomic: "1000",
      decimals: 6,
      network: "eip155:84532",
      payTo: null,
      hosts: [],
      accepts: [],
      updatedAt: NOW,
    },
  ],
  linkedByOwner: new Map(),
  ownerBySlug: new Map([[API, `cr_${API}`]]),
};

function challenge(caller: string, ts: number, fingerprint?: string): UsageEvent {
  const over: Partial<UsageEvent> = { apiId: API, owner: `cr_${API}`, caller, ts, status: 402, latencyMs: 1 };
  const flags = { lifecycle: "payment_challenged", countable: false, billable: false, billedAtomic: "0" } as const;
  return usageEvent({ ...over, ...flags, ...(fingerprint ? { fingerprint } : {}) });
}

function settled(payer: string, ts: number): UsageEvent {
  return usageEvent({ apiId: API, owner: `cr_${API}`, caller: payer, ts });
}

/** N paid calls, each of its own request, each preceded by K repeated unpaid copies of it. */
async function paidCalls(n: number, k: number): Promise<UsageEvent[]> {
  const events: UsageEvent[] = [];
  for (let i = 0; i < n; i++) {
    const fp = await requestFingerprint("GET", "/v1/records", `limit=${i + 1}`);
    const ip = `ip:${"c".repeat(63)}${i % 3}`;
    for (let j = 0; j < k; j++) events.push(challenge(ip, NOW - 10 * 60_000 + i * 1000 + j, fp));
    events.push(settled(PAYERS[i % PAYERS.length]!, NOW - 10 * 60_000 + i * 1000 + k));
  }
  return events;
}

async function metrics(stub: DurableObjectStub<Leaderboard>): Promise<WindowMetrics> {
  const linked = JSON.stringify(linkedPairs(catalog));
  const ex = await stub.exportWindows({ shard: "f", ranges: windowRanges(NOW), linked });
  const snap = buildSnapshot(catalog, [ex], NOW);
  const detail = snap.apis.find((a) => a.slug === API)?.windows.overall;
  if (!detail) throw new Error("no overall window for the API");
  return detail.metrics;
}

/** What the dashboard and `claw stats` show: settled / challenged requests, capped at 100 %. */
const conversion = (m: WindowMetrics) => Math.min(1, (m.calls + m.selfDealtCalls) / m.challenges);

describe("the 402 → paid funnel counts challenged requests", () => {
  it("N paid calls each preceded by K repeated unpaid requests: N challenges, N settled, 100 %", async () => {
    const N = 7;
    const K = 4;
    const stub = shard();
    const events = await paidCalls(N, K);
    // Delivered in small batches, so a request's repeated 402s land in different ingests.
    let accepted = 0;
    for (let i = 0; i < events.length; i += 3) accepted += (await stub.ingest(events.slice(i, i + 3))).accepted;
    expect(accepted).toBe(N * (K + 1));
    const m = await metrics(stub);
    expect(m.events).toBe(N * (K + 1));
    expect(m.challenges).toBe(N);
    expect(m.calls).toBe(N);
    expect(conversion(m)).toBe(1);
    // Delivered again, later, one event at a time: nothing moves.
    for (const e of events.slice(0, 6)) await stub.ingest([e]);
    expect((await metrics(stub)).challenges).toBe(N);
  });

  it("the same mix as aggregated batches counts exactly as the events do", async () => {
    const events = await paidCalls(6, 3);
    const perEvent = shard();
    const batched = shard();
    // Split so that repeated challenges of one request land in different ingests.
    for (let i = 0; i < events.length; i += 5) await perEvent.ingest(events.slice(i, i + 5));
    for (let i = 0; i < events.length; i += 5) await batched.ingestBatch(foldUsage(`b-${i}`, events.slice(i, i + 5)));
    const a = await metrics(perEvent);
    const b = await metrics(batched);
    expect(a.challenges).toBe(6);
    expect(b).toEqual(a);
    // A redelivered batch adds nothing.
    await batched.ingestBatch(foldUsage("b-0", events.slice(0, 5)));
    expect((await metrics(batched)).challenges).toBe(6);
  });

  it("distinct requests, callers and hours count apart; a fingerprint-less challenge counts every 402", async () => {
    const stub = shard();
    const records = await requestFingerprint("GET", "/v1/records", "limit=1");
    const other = await requestFingerprint("GET", "/v1/records", "limit=2");
    const post = await requestFingerprint("POST", "/v1/records", "limit=1");
    const [ipA, ipB] = ["ip:" + "a".repeat(64), "ip:" + "b".repeat(64)];
    const t = NOW - 30 * 60_000;
    await stub.ingest([
      challenge(ipA, t, records),
      challenge(ipA, t + 1, records), // one request, twice: 1
      challenge(ipA, t + 2, other),
      challenge(ipA, t + 3, post), // other query, other method: 2
      challenge(ipB, t + 4, records), // another caller: 1
      challenge(ipA, t - HOUR, records), // another hour: 1
      challenge(ipA, t + 5),
      challenge(ipA, t + 6), // no fingerprint: 2
    ]);
    const m = await metrics(stub);
    expect(m.events).toBe(8);
    expect(m.challenges).toBe(7);
    // More settled calls than challenged requests (a payer that paid from a cached 402): capped.
    const twice = [...PAYERS, ...PAYERS];
    await stub.ingest(twice.map((p, i) => settled(p, t + 10 + i)));
    expect(conversion(await metrics(stub))).toBe(1);
  });

  it("challenge keys are bounded: pruned once their hour ended the dedupe retention ago", async () => {
    const stub = shard();
    await stub.ingest(await paidCalls(3, 2)); // challenges in the hour that ends at NOW
    const counts = await runInDurableObject(stub, (_lb: Leaderboard, state) => {
      const sql = state.storage.sql;
      const count = () => Number(sql.exec("SELECT COUNT(*) AS n FROM challenge_seen").one().n);
      const before = count();
      pruneKeys(sql, NOW + DEDUPE_RETENTION_MS - 1);
      const kept = count();
      pruneKeys(sql, NOW + DEDUPE_RETENTION_MS);
      return { before, kept, after: count(), anyKeys: hasKeys(sql) };
    });
    expect(counts).toEqual({ before: 3, kept: 3, after: 0, anyKeys: false });
    // The counted challenges stay in the hourly aggregates.
    expect((await metrics(stub)).challenges).toBe(3);
  });

  it("a shard's legacy full challenge keys move into the digests once, so nothing counts twice", async () => {
    const stub = shard();
    const fp = await requestFingerprint("GET", "/v1/records", "limit=1");
    const caller = `ip:${"d".repeat(24)}`;
    const hour = Math.floor((NOW - 60_000) / HOUR);
    const moved = await runInDurableObject(stub, (_lb: Leaderboard, state) => {
      const sql = state.storage.sql;
      // The table as shards made before the digests have it, with a challenge already counted.
      sql.exec(`CREATE TABLE challenge_keys (api_id TEXT NOT NULL, hour INTEGER NOT NULL, caller TEXT NOT NULL,
        fingerprint TEXT NOT NULL, seen_ms INTEGER NOT NULL, PRIMARY KEY (api_id, hour, caller, fingerprint)) WITHOUT ROWID`);
      sql.exec("INSERT INTO challenge_keys VALUES (?, ?, ?, ?, ?)", API, hour, caller, fp, NOW);
      migrateChallengeKeys(sql);
      migrateChallengeKeys(sql); // once moved, a second run (the next start) finds nothing to do
      const legacy = sql.exec("SELECT name FROM sqlite_master WHERE name = 'challenge_keys'").toArray();
      const keys = sql.exec<{ hour: number; key: string }>("SELECT hour, key FROM challenge_seen").toArray();
      return { legacy: legacy.length, keys: keys.map((k) => ({ ...k })) };
    });
    expect(moved).toEqual({ legacy: 0, keys: [{ hour, key: challengeDigest(API, caller, fp) }] });
    // The same request challenged again in that hour adds nothing; another request adds one.
    const other = await requestFingerprint("GET", "/v1/records", "limit=2");
    await stub.ingest([challenge(caller, NOW - 60_000, fp), challenge(caller, NOW - 50_000, other)]);
    expect((await metrics(stub)).challenges).toBe(1);
  });
});
