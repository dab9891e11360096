// Aggregated usage end to end inside workerd (docs/ARCHITECTURE.md §4, §14): a known mix of calls
// — served, rate-limited, tenant errors, 402 challenges (repeated and distinct), over HTTP and as
// MCP tool calls, from several callers — through the real dispatcher → the isolate's usage fold
// → the TenantMeter (applied once per batch id) → its outbox → the Leaderboard (applied once per
// batch id) → rollup. Every total equals the truth counted here call by call, and sending a batch
// again, to the meter or to the Leaderboard, changes nothing. Paid settlements keep their own
// per-payment path (covered with a real chain in test/node/paid-calls.test.ts).
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { leaderboardFor } from "../../objects/leaderboard/shards.ts";
import * as LSQL from "../../objects/leaderboard/sql.ts";
import { rowOf } from "../../objects/meter/usage-fold.ts";
import type { TenantMeter } from "../../objects/meter/tenant-meter.ts";
import { HIST_COLUMNS } from "../../objects/meter/schema.ts";
import { auth, call, CITIES_CSV, createCreator, deployOk, OPERATOR, uniqueSlug } from "./helpers.ts";

const PAY_TO = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };
let free: string;
let fn: string;
let paid: string;

const meterOf = (slug: string) =>
  env.TENANT_METER.get(env.TENANT_METER.idFromName(slug)) as DurableObjectStub<TenantMeter>;

async function http(path: string, ip: string, init: RequestInit = {}): Promise<number> {
  const res = await call(path, { ...init, headers: { ...(init.headers ?? {}), "cf-connecting-ip": ip } });
  await res.arrayBuffer();
  return res.status;
}

/** A tool call over MCP: the tool result's HTTP-like status (`isError` + its code, or ok). */
async function mcp(slug: string, ip: string, name: string, args: unknown): Promise<string> {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args } });
  const headers = { ...MCP_HEADERS, "cf-connecting-ip": ip };
  const res = await call(`/t/${slug}/mcp`, { method: "POST", headers, body });
  const result = ((await res.json()) as any).result;
  return result.isError ? String(result.structuredContent?.code ?? result.structuredContent?.status ?? "error") : "ok";
}

async function deployFunction(key: string, slug: string): Promise<void> {
  const form = new FormData();
  const code =
    "export default { fetch: async (req) => { const { text } = await req.json();" +
    " return text === 'fail' ? new Response('boom', { status: 500 }) : Response.json({ length: text.length }); } };";
  form.set("code", new File([code], "index.js", { type: "application/javascript" }));
  const input = { type: "object", properties: { text: { type: "string" } }, required: ["text"] };
  const resource = { type: "function", operations: [{ method: "POST", path: "/", input }] };
  form.set("config", JSON.stringify({ resource }));
  const res = await call(`/v1/tenants/${slug}/deployments`, { method: "POST", headers: auth(key), body: form });
  if (res.status !== 201) throw new Error(`deploy fn: ${res.status} ${await res.text()}`);
}

/** Lets the isolate's usage flush (≤ 50 ms), then runs the meter's alarm (delivery to the Leaderboard). */
async function settle(slug: string): Promise<void> {
  await new Promise((r) => setTimeout(r, 150));
  await runDurableObjectAlarm(meterOf(slug));
}

/** The meter's queued Leaderboard rows (read right after an append, before its delayed delivery). */
function queuedBodies(slug: string): Promise<unknown[]> {
  return runInDurableObject(meterOf(slug), (_i, state) =>
    state.storage.sql
      .exec<{ body: string }>("SELECT body FROM outbox WHERE kind = 'usage' ORDER BY seq")
      .toArray()
      .map((r) => JSON.parse(r.body) as unknown),
  );
}

async function overall(slug: string): Promise<any> {
  expect((await call("/__platform/rollup", { method: "POST", headers: OPERATOR })).status).toBe(200);
  return (await (await call(`/v1/apis/${slug}`)).json<any>()).api.windows.overall.metrics;
}

async function meterHist(slug: string): Promise<number> {
  return runInDurableObject(meterOf(slug), (_i, state) => {
    const sum = HIST_COLUMNS.map((c) => `SUM(${c})`).join(" + ");
    return state.storage.sql.exec<{ n: number }>(`SELECT ${sum} AS n FROM usage_hourly`).one().n;
  });
}

/** What the shard keeps for an API: per-call dedupe keys and raw events (none), batch ids. */
async function shardKeys(slug: string): Promise<{ seen: number; recent: number; batches: number }> {
  return runInDurableObject(leaderboardFor(env, slug), (_i, state) => {
    const n = (q: string) => state.storage.sql.exec<{ n: number }>(q, slug).one().n;
    return {
      seen: n("SELECT COUNT(*) AS n FROM seen WHERE api_id = ?"),
      recent: n("SELECT COUNT(*) AS n FROM recent_events WHERE api_id = ?"),
      batches: n("SELECT COUNT(*) AS n FROM batches WHERE api_id = ?"),
    };
  });
}

async function shardTransports(slug: string): Promise<Record<string, number>> {
  return runInDurableObject(leaderboardFor(env, slug), (_i, state) => {
    const rows = state.storage.sql.exec<{ transport: string; events: number }>(LSQL.TRANSPORTS_IN_RANGE, slug, 0, 1e9);
    return Object.fromEntries(rows.toArray().map((r) => [r.transport, r.events]));
  });
}

beforeAll(async () => {
  const key = (await createCreator("Mix Creator")).key;
  free = uniqueSlug("mix-free");
  fn = uniqueSlug("mix-fn");
  paid = uniqueSlug("mix-paid");
  await deployOk(key, free, CITIES_CSV, { config: { rateLimit: { perCaller: { requests: 4, windowSeconds: 3600 } } } });
  await deployFunction(key, fn);
  await deployOk(key, paid, CITIES_CSV, { config: { priceUsd: 0.001, payTo: PAY_TO, network: "eip155:84532" } });
});

describe("a known mix of calls through the dispatcher", () => {
  it("free calls: served, rate-limited and MCP calls total what was sent, once", async () => {
    const statuses: (number | string)[] = [];
    for (let i = 0; i < 6; i++) statuses.push(await http(`/t/${free}/v1/records`, "198.51.100.1")); // 4 + 2 × 429
    for (let i = 0; i < 2; i++) statuses.push(await http(`/t/${free}/v1/records?limit=1`, "198.51.100.2"));
    for (let i = 0; i < 3; i++) statuses.push(await mcp(free, "198.51.100.3", "get_v1_records_id", { id: "3" }));
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429, 200, 200, "ok", "ok", "ok"]);
    await new Promise((r) => setTimeout(r, 150));
    const { windows, transports } = await meterOf(free).stats(Date.now());
    expect(windows.total).toMatchObject({ calls: 11, served: 9, refused: 2, errors: 0, uniqueCallers: 3 });
    expect(windows.today.uniqueCallers).toBe(3);
    expect(transports.total).toEqual({ http: 8, mcp: 3 });
    expect(await meterHist(free)).toBe(9); // admitted calls only
    await settle(free);
    const metrics = await overall(free);
    expect(metrics).toMatchObject({ events: 11, calls: 9, refusals: 2, errors: 0, payers: 3, challenges: 0 });
    expect(await shardTransports(free)).toEqual({ http: 8, mcp: 3 });
    // Aggregated rows under batch ids, not per-call events: no per-call key or raw event stored.
    const keys = await shardKeys(free);
    expect(keys).toMatchObject({ seen: 0, recent: 0 });
    expect(keys.batches).toBeGreaterThan(0);
    expect(keys.batches).toBeLessThan(11);
  });

  it("a batch sent twice, to the meter and then to the Leaderboard, counts once", async () => {
    const before = await meterOf(free).stats(Date.now());
    const metrics = await overall(free);
    // One batch sent to the meter twice (a retried RPC): applied once.
    const served = { status: 200, latencyMs: 7, outcome: "served" } as const;
    const row = rowOf({ requestId: "x", ts: Date.now(), caller: "ip:replay", ...served });
    const batch = { batchId: `replay:${crypto.randomUUID()}`, rows: [row] };
    expect(await meterOf(free).applyUsage(batch)).toEqual({ applied: true, calls: 1, rejected: 0 });
    expect(await meterOf(free).applyUsage(batch)).toEqual({ applied: false, calls: 1, rejected: 0 });
    const bodies = await queuedBodies(free); // forwarded once, under the same id
    expect(bodies).toMatchObject([{ batchId: batch.batchId, apiId: free, rows: [{ calls: 1, caller: "ip:replay" }] }]);
    const after = await meterOf(free).stats(Date.now());
    const total = before.windows.total;
    expect(after.windows.total).toMatchObject({ calls: total.calls + 1, uniqueCallers: total.uniqueCallers + 1 });
    await settle(free);
    expect((await overall(free)).calls).toBe(metrics.calls + 1);
    // The Leaderboard gets the same batch again (a redelivery): nothing more counts.
    expect(await leaderboardFor(env, free).ingestBatches(bodies)).toEqual({ accepted: 0, duplicates: 1, rejected: 0 });
    expect((await overall(free)).calls).toBe(metrics.calls + 1);
  });

  it("tenant errors over both transports count as errors and failures, never as served calls", async () => {
    const statuses: (number | string)[] = [];
    for (const text of ["a", "bb", "fail", "fail"]) {
      const body = JSON.stringify({ text });
      const init = { method: "POST", body, headers: { "content-type": "application/json" } };
      statuses.push(await http(`/t/${fn}/`, "198.51.100.4", init));
    }
    for (const text of ["ccc", "fail"]) statuses.push(await mcp(fn, "198.51.100.5", "post", { body: { text } }));
    expect(statuses.slice(0, 4)).toEqual([200, 200, 500, 500]);
    expect(statuses[4]).toBe("ok");
    expect(statuses[5]).not.toBe("ok");
    await new Promise((r) => setTimeout(r, 150));
    const { windows, transports } = await meterOf(fn).stats(Date.now());
    expect(windows.total).toMatchObject({ calls: 6, served: 3, errors: 3, refused: 0, uniqueCallers: 2 });
    expect(transports.total).toEqual({ http: 4, mcp: 2 });
    expect(await meterHist(fn)).toBe(6);
    await settle(fn);
    expect(await overall(fn)).toMatchObject({ events: 6, calls: 3, errors: 3, payers: 2 });
  });

  it("the funnel counts challenged requests once per caller and hour, over HTTP and MCP", async () => {
    for (let i = 0; i < 3; i++) expect(await http(`/t/${paid}/v1/records?limit=1`, "198.51.100.6")).toBe(402);
    expect(await http(`/t/${paid}/v1/records?limit=2`, "198.51.100.6")).toBe(402);
    expect(await http(`/t/${paid}/v1/records?limit=1`, "198.51.100.7")).toBe(402);
    for (let i = 0; i < 2; i++) {
      expect(await mcp(paid, "198.51.100.8", "get_v1_records", { limit: 1 })).toBe("payment_required");
    }
    await settle(paid);
    // Challenges are not calls in the meter's stats; they feed the funnel only.
    expect((await meterOf(paid).stats(Date.now())).windows.total.calls).toBe(0);
    expect(await overall(paid)).toMatchObject({ events: 7, challenges: 4, calls: 0, refusals: 0 });
    expect(await shardTransports(paid)).toEqual({ http: 5, mcp: 2 });
  });
});
