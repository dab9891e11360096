// Leaderboard benchmark Worker (bench/leaderboard.ts starts it with wrangler dev on 127.0.0.1).
// It re-exports the real Leaderboard Durable Object (objects/leaderboard/, unchanged) and drives
// it the way production does: batches of usage events by RPC to the shard, then the
// coordinator's rollup into D1.
//
//   GET  /health
//   POST /ingest?events&offset&total&batch&endMs&spanHours&mode&shard
//        generates `events` realistic usage events (global indices offset..offset+events-1 of a
//        `total`-event timeline ending at endMs and spanning spanHours, in time order) and
//        ingests them into `shard` (default shard-0) in batches of `batch`, one RPC at a time.
//        mode=events (default): `ingest(events)`, as the TenantMeter outbox delivers today.
//        mode=batches: what the TenantMeters' outboxes now send (issue 14): `events` calls of a
//        shard at 50k calls/s folded like the dispatcher, applied and coalesced like the meter
//        (traffic.js, the production functions), `perRpc` delivery batches per `ingestBatches`
//        RPC; `batch` is unused. Each chunk reports the calls the batches carried, their rows and
//        the shard's fill after it (aggregate rows, dedupe keys, database bytes).
//        Only the RPCs are timed: the events are generated (and folded) up front (workerd's clock
//        only advances on I/O, so a zero timer refreshes it after), then each RPC is awaited
//        before the next.
//   POST /rollup
//        seeds the D1 catalog the rollup reads (creators, tenants, a creator wallet), forces a
//        rollup through the coordinator (`rollup().durationMs` is the official figure), then
//        replays the rollup's steps here to split its time: catalog read, shard export RPC,
//        scoring (CPU), D1 snapshot write.
//   GET  /counters      the shard's ingest counters
//
// Plain JavaScript on purpose: tsconfig.node.json type-checks bench/ with Node types, and this
// file imports Worker code (cloudflare:workers); wrangler's bundler compiles the .ts imports.
import * as v from "valibot";
import { Leaderboard } from "../../objects/leaderboard/leaderboard.ts";
import { leaderboardNamed, rollupCoordinator, shardCount, shardNames } from "../../objects/leaderboard/shards.ts";
import { buildSnapshot } from "../../objects/leaderboard/snapshot.ts";
import { linkedPairs } from "../../objects/leaderboard/snapshot-merge.ts";
import { windowRanges } from "../../objects/leaderboard/windows.ts";
import { loadCatalog } from "../../objects/leaderboard/catalog.ts";
import { writeSnapshot } from "../../objects/leaderboard/snapshot-store.ts";
import { TenantConfigSchema } from "../../src/config/tenant-config.ts";
import { CALLERS as TRAFFIC_CALLERS, shardTraffic } from "./traffic.js";

/** The real Leaderboard plus one bench-only read: how full the shard is (rows and bytes). */
class BenchLeaderboard extends Leaderboard {
  fill() {
    const sql = this.ctx.storage.sql;
    const n = (table) => sql.exec(`SELECT COUNT(*) AS n FROM ${table}`).one().n;
    return {
      payerHours: n("payer_hours"),
      apiHours: n("api_hours"),
      batchKeys: n("batches"),
      challengeKeys: n("challenge_seen"),
      bytes: sql.databaseSize,
    };
  }
}

export { BenchLeaderboard as Leaderboard };

const HOUR_MS = 3_600_000;
const CALLERS = 1000;
const NETWORK = "eip155:84532";
const CREATORS = [
  { id: "bench-creator-a", name: "Bench Creator A" },
  { id: "bench-creator-b", name: "Bench Creator B" },
];
/** All on one shard (LEADERBOARD_SHARDS = 1). share: fraction of the events. */
const APIS = [
  { slug: "bench-weather", owner: "bench-creator-a", directory: "weather", priceUsd: 0.001, share: 0.35 },
  { slug: "bench-geocode", owner: "bench-creator-a", directory: "geo", priceUsd: 0.005, share: 0.25 },
  { slug: "bench-fx-rates", owner: "bench-creator-b", directory: "finance", priceUsd: 0.01, share: 0.15 },
  { slug: "bench-cities-free", owner: "bench-creator-b", directory: "geo", priceUsd: 0, share: 0.15 },
  { slug: "bench-quotes-free", owner: "bench-creator-b", directory: "finance", priceUsd: 0, share: 0.1 },
];
const ATOMIC = (usd) => String(Math.round(usd * 1e6));
// Lifecycle mixes: a paid call is a 402 challenge followed by the paid retry, so challenges are
// about as frequent as settlements; the rest are refusals, replays and failures.
const PAID_MIX = [
  ["payment_settled", 0.47, 200],
  ["payment_challenged", 0.45, 402],
  ["payment_invalid", 0.02, 402],
  ["payment_replayed", 0.015, 200],
  ["rate_limited", 0.01, 429],
  ["spend_cap_exceeded", 0.005, 402],
  ["quota_exceeded", 0.005, 429],
  ["settlement_failed", 0.01, 502],
  ["tenant_error", 0.015, 500],
];
const FREE_MIX = [
  ["served", 0.93, 200],
  ["rate_limited", 0.04, 429],
  ["quota_exceeded", 0.01, 429],
  ["tenant_error", 0.02, 500],
];

/** mulberry32: a small seeded PRNG, so the traffic shape is the same on every run. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(rand, chars) {
  let s = "";
  while (s.length < chars)
    s += Math.floor(rand() * 2 ** 32)
      .toString(16)
      .padStart(8, "0");
  return s.slice(0, chars);
}

function identitiesOf(n) {
  const rand = prng(402);
  return Array.from({ length: n }, () => ({ wallet: `0x${hex(rand, 40)}`, ip: `ip:${hex(rand, 32)}` }));
}
const identities = identitiesOf(CALLERS);
/** The batched mode's callers (traffic.js): the same first CALLERS, then more. */
let trafficIdentities = null;
const payTo = (i) => `0x${String(i + 1).padStart(40, "7")}`;
/** A heavy payer that is creator A's own wallet: weighs zero in A's scores (self-dealing). */
const LINKED_WALLET = identities[3].wallet;

function pick(rand, mix) {
  let r = rand();
  for (const entry of mix) {
    r -= entry[1];
    if (r < 0) return entry;
  }
  return mix[0];
}

function pickApi(rand) {
  let r = rand();
  for (const api of APIS) {
    r -= api.share;
    if (r < 0) return api;
  }
  return APIS[0];
}

function makeEvent(rand, index, timeline) {
  const api = pickApi(rand);
  const paid = api.priceUsd > 0;
  const [lifecycle, , status] = pick(rand, paid ? PAID_MIX : FREE_MIX);
  // Skewed callers: the heaviest 1% make ~10% of the calls; all ~1000 appear.
  const who = identities[Math.floor(CALLERS * rand() ** 2)];
  const attempt =
    lifecycle === "payment_settled" ||
    lifecycle === "served" ||
    lifecycle === "tenant_error" ||
    lifecycle === "settlement_failed";
  // Log-normal-ish latency around 40 ms for calls that reached the tenant; refusals are fast.
  const gauss = (rand() + rand() + rand() + rand() - 2) * 1.7;
  const latencyMs = attempt ? Math.round(40 * Math.exp(0.8 * gauss)) : 1 + Math.floor(rand() * 5);
  const jitter = Math.floor((rand() - 0.5) * 40_000);
  const ts = Math.min(
    timeline.endMs,
    Math.max(0, Math.floor(timeline.startMs + (index * timeline.spanMs) / timeline.total) + jitter),
  );
  const settled = lifecycle === "payment_settled";
  const price = ATOMIC(api.priceUsd);
  return {
    requestId: crypto.randomUUID(),
    ts,
    apiId: api.slug,
    owner: api.owner,
    directory: api.directory,
    caller: paid ? who.wallet : who.ip,
    status,
    latencyMs,
    priceAtomic: price,
    billedAtomic: settled ? price : "0",
    lifecycle,
    countable: settled || lifecycle === "served",
    billable: settled,
    network: paid ? NETWORK : "",
    env: "test",
  };
}

function intParam(params, name, fallback) {
  const raw = params.get(name);
  const n = raw === null ? fallback : Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name}: not a number`);
  return Math.floor(n);
}

function percentile(sorted, p) {
  return sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Resolves on a timer: workerd only advances its clock between I/O events. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

async function ingest(params, env) {
  const events = intParam(params, "events", 10_000);
  const offset = intParam(params, "offset", 0);
  const total = Math.max(events + offset, intParam(params, "total", events + offset));
  const batch = intParam(params, "batch", 500);
  const endMs = intParam(params, "endMs", Date.now());
  const spanMs = intParam(params, "spanHours", 168) * HOUR_MS;
  if (events < 1 || batch < 1 || batch > 1000) throw new Error("events ≥ 1 and 1 ≤ batch ≤ 1000");
  const mode = params.get("mode") ?? "events";
  if (mode !== "events" && mode !== "batches") throw new Error("mode: events | batches");
  const timeline = { startMs: endMs - spanMs, spanMs, endMs, total };
  const rand = prng(0x1ead + offset);
  const shard = leaderboardNamed(env, params.get("shard") ?? shardNames(shardCount(env))[0]);
  await tick();
  const genStart = performance.now();
  if (mode === "batches") {
    trafficIdentities ??= identitiesOf(TRAFFIC_CALLERS);
    const model = { apis: APIS, paidMix: PAID_MIX, freeMix: FREE_MIX, identities: trafficIdentities, rand, timeline };
    const traffic = shardTraffic({ ...model, atomic: ATOMIC }, offset, events);
    await tick();
    const generateMs = performance.now() - genStart;
    const perRpc = Math.max(1, Math.min(20, intParam(params, "perRpc", 5)));
    const sent = await send(shard, groups(traffic.batches, perRpc), true);
    const calls = traffic.batches.reduce((n, b) => n + b.rows.reduce((t, r) => t + r.calls, 0), 0);
    const rows = traffic.batches.reduce((n, b) => n + b.rows.length, 0);
    const { generated, settled, sourceBatches } = traffic;
    return {
      events: calls,
      ...{ generated, settled, sourceBatches, deliveryBatches: traffic.batches.length, rows },
      ...sent,
      generateMs,
      eventsPerSec: (calls / sent.rpcMs) * 1000,
      rowsPerSec: (rows / sent.rpcMs) * 1000,
      fill: await shard.fill(),
    };
  }
  const batches = [];
  for (let start = 0; start < events; start += batch) {
    const n = Math.min(batch, events - start);
    batches.push(Array.from({ length: n }, (_, i) => makeEvent(rand, offset + start + i, timeline)));
  }
  await tick();
  const generateMs = performance.now() - genStart;
  const sent = await send(shard, batches, false);
  return { events, ...sent, generateMs, eventsPerSec: (events / sent.rpcMs) * 1000 };
}

/** Sends each list by one RPC, one at a time; only the RPCs are timed. */
async function send(shard, lists, aggregated) {
  const batchMs = [];
  const counts = { accepted: 0, duplicates: 0, rejected: 0 };
  const wallStart = Date.now();
  for (const list of lists) {
    const t0 = performance.now();
    const result = aggregated ? await shard.ingestBatches(list) : await shard.ingest(list);
    batchMs.push(performance.now() - t0);
    counts.accepted += result.accepted;
    counts.duplicates += result.duplicates;
    counts.rejected += result.rejected;
  }
  const wallMs = Date.now() - wallStart;
  const rpcMs = batchMs.reduce((a, b) => a + b, 0);
  const sorted = [...batchMs].sort((a, b) => a - b);
  const batchStats = { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] };
  return { batches: batchMs.length, ...counts, rpcMs, wallMs, batchMs: batchStats };
}

function groups(list, size) {
  const out = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

async function seedCatalog(env) {
  const now = Date.now();
  const db = env.DB;
  const statements = [];
  for (const c of CREATORS) {
    statements.push(
      db
        .prepare(
          "INSERT INTO creators (id, name, email, created_at) VALUES (?, ?, NULL, ?) ON CONFLICT (id) DO NOTHING",
        )
        .bind(c.id, c.name, now),
    );
  }
  APIS.forEach((api, i) => {
    const config = v.parse(TenantConfigSchema, {
      slug: api.slug,
      owner: api.owner,
      description: `${api.slug} (leaderboard benchmark)`,
      directory: api.directory,
      priceUsd: api.priceUsd,
      ...(api.priceUsd > 0 ? { payTo: payTo(i) } : {}),
      network: NETWORK,
      resourceType: "dataset",
      version: 1,
      resource: {
        type: "dataset",
        format: "csv",
        idField: null,
        rows: 1000,
        bytes: 65_536,
        dataKey: `bench/${api.slug}/data`,
        codeKey: `bench/${api.slug}/code`,
      },
      createdAt: now,
      updatedAt: now,
    });
    statements.push(
      db
        .prepare(
          `INSERT INTO tenants (slug, owner, resource_type, version, config, created_at, updated_at, deleted_at) VALUES (?, ?, 'dataset', 1, ?, ?, ?, NULL)
           ON CONFLICT (slug) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`,
        )
        .bind(api.slug, api.owner, JSON.stringify(config), now, now),
    );
  });
  statements.push(
    db
      .prepare("INSERT INTO creator_wallets (creator_id, address, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
      .bind("bench-creator-a", LINKED_WALLET, now),
  );
  await db.batch(statements);
  return { creators: CREATORS.length, tenants: APIS.length, linkedWallets: 1 };
}

async function rollup(env) {
  const seeded = await seedCatalog(env);
  await tick();
  const t0 = performance.now();
  const official = await rollupCoordinator(env).rollup();
  const officialWallMs = performance.now() - t0;

  // The same steps as runRollup (objects/leaderboard/rollup.ts), timed one by one (a second rollup, same data).
  await tick();
  const s0 = performance.now();
  const catalog = await loadCatalog(env.DB);
  const s1 = performance.now();
  const now = Date.now();
  const request = { ranges: windowRanges(now), linked: JSON.stringify(linkedPairs(catalog)) };
  const names = shardNames(shardCount(env));
  const exports = await Promise.all(
    names.map((shard) => leaderboardNamed(env, shard).exportWindows({ ...request, shard })),
  );
  const s2 = performance.now();
  const snapshot = buildSnapshot(catalog, exports, now);
  await tick();
  const s3 = performance.now();
  const written = await writeSnapshot(env.DB, snapshot, now, 86_400);
  const s4 = performance.now();
  const windows = exports[0]?.windows ?? {};
  return {
    seeded,
    rollup: { ...official, wallMs: officialWallMs },
    breakdown: {
      catalogMs: s1 - s0,
      exportMs: s2 - s1,
      scoreMs: s3 - s2,
      writeMs: s4 - s3,
      writeChanged: written.changed,
      exportJsonBytes: JSON.stringify(exports).length,
      exportPairs: Object.fromEntries(Object.entries(windows).map(([name, w]) => [name, w.pairs.length])),
      rankedWeek: snapshot.windows.week.entries.filter((e) => e.rank !== null).length,
      entriesWeek: snapshot.windows.week.entries.length,
    },
  };
}

const json = (body, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    try {
      if (url.pathname === "/health") return json({ ok: true });
      if (request.method === "POST" && url.pathname === "/ingest") return json(await ingest(url.searchParams, env));
      if (request.method === "POST" && url.pathname === "/rollup") return json(await rollup(env));
      if (url.pathname === "/counters") {
        const shard = leaderboardNamed(env, shardNames(shardCount(env))[0]);
        return json((await shard.recentEvents({ limit: 1 })).counters);
      }
      return json({ error: "not_found" }, 404);
    } catch (err) {
      return json({ error: String(err?.stack ?? err) }, 500);
    }
  },
};
