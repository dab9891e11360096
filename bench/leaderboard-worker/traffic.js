// The batched mode's traffic (bench/leaderboard.ts, issue 14): what ONE Leaderboard shard gets
// from the TenantMeters of its APIs while it runs at SHARD_RATE calls/s, built with the
// production code at every step, nothing reimplemented:
//   1. calls: UsageRecords as the dispatcher records them (objects/meter/types.ts), one API of the
//      fixed APIS by share, the caller drawn from a Zipf(ZIPF_S) distribution over CALLERS
//      identities (wallets for paid APIs, hashed IPs for free ones), the outcome from the API's
//      mix, latency log-normal around 40 ms for calls that reached the tenant, 10 % over MCP, a
//      402 challenge for one of PATHS requests of the API (its fingerprint);
//   2. the dispatcher's fold (objects/meter/usage-fold.ts `foldRecords`): per isolate (ISOLATES,
//      a call goes to one at random) and per tenant, DISPATCH_MS of calls per batch;
//   3. the meter's apply (objects/meter/usage-plan.ts `leaderboardRows`): the rows it queues for
//      the Leaderboard (settlements are not among them: they go one event per payment);
//   4. the meter's coalescing (objects/meter/usage-coalesce.ts `sealGroup`): the batches queued in
//      COALESCE_MS (the outbox's delivery delay) merged into delivery batches, with the seal's caps.
// Time is compressed, and says so: the fold windows are counted in calls at SHARD_RATE (a 50 ms
// dispatcher interval = SHARD_RATE / 20 calls), while the hour of a call advances every
// CALLS_PER_HOUR calls (the run ends at `endMs`), so the shard fills with hourly rows as it would
// over many hours, and the calls per row do not depend on the run's length.
// A "call" in the report = one call carried by an aggregated batch.
import { MAX_SEAL_SOURCE_ROWS, sealGroup } from "../../objects/meter/usage-coalesce.ts";
import { foldRecords } from "../../objects/meter/usage-fold.ts";
import { leaderboardRows } from "../../objects/meter/usage-plan.ts";

/** Calls per second the simulated shard receives (the target). */
export const SHARD_RATE = 50_000;
const DISPATCH_MS = 50; // src/gateway/usage-buffer.ts FLUSH_DELAY_MS
const COALESCE_MS = 1000; // objects/meter/usage-outbox.ts USAGE_DELAY_MS
const SEAL_SCAN_ROWS = 500; // outbox rows one seal looks at (usage-outbox.ts USAGE_BATCH)
const ISOLATES = 8;
export const CALLERS = 10_000;
export const ZIPF_S = 1.1;
const PATHS = 20;
const MCP_SHARE = 0.1;
/** Calls per hour of the timeline: 2 s of the shard at SHARD_RATE (time compressed 1800×). */
export const CALLS_PER_HOUR = 100_000;

/** Zipf(s) over n ranks: returns a sampler of 0-based ranks (binary search in the CDF). */
function zipf(n, s) {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) cdf[k] = sum += 1 / (k + 1) ** s;
  for (let k = 0; k < n; k++) cdf[k] /= sum;
  return (u) => {
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const rankOf = zipf(CALLERS, ZIPF_S);

/**
 * Generates the calls offset..offset+count-1 of a `total`-call run and returns the delivery
 * batches the shard gets for them, plus the counts the report needs.
 * model: { apis, paidMix, freeMix, identities, rand, atomic, timeline: { endMs, total } }
 */
export function shardTraffic(model, offset, count) {
  const { apis, rand } = model;
  const perDispatch = (SHARD_RATE * DISPATCH_MS) / 1000;
  const perCoalesce = (SHARD_RATE * COALESCE_MS) / 1000;
  // (coalesce window, api) → (dispatch window, isolate) → records
  const windows = new Map();
  let settled = 0;
  for (let g = offset; g < offset + count; g++) {
    const api = pickApi(rand, apis);
    const record = makeRecord(model, api, g);
    if (record.outcome === "payment_settled") settled += 1;
    const wKey = `${Math.floor(g / perCoalesce)}|${api.slug}`;
    let w = windows.get(wKey);
    if (!w) windows.set(wKey, (w = { api, window: Math.floor(g / perCoalesce), sources: new Map() }));
    const sKey = `${Math.floor(g / perDispatch)}|${Math.floor(rand() * ISOLATES)}`;
    let list = w.sources.get(sKey);
    if (!list) w.sources.set(sKey, (list = []));
    list.push(record);
  }
  const batches = [];
  let sourceBatches = 0;
  for (const w of windows.values()) {
    const queued = [];
    for (const [key, records] of w.sources) {
      const rows = leaderboardRows([...foldRecords(records).values()], model.atomic(w.api.priceUsd));
      if (rows.length === 0) continue; // the meter queues nothing (usage-outbox.ts emitBatch)
      const { slug: apiId, owner, directory } = w.api;
      queued.push({ batchId: `bench-src-${w.window}-${apiId}-${key}`, apiId, owner, directory, rows });
    }
    sourceBatches += queued.length;
    let n = 0;
    const newId = () => `bench-d-${w.window}-${w.api.slug}-${n++}`;
    for (const run of sealRuns(queued)) batches.push(...sealGroup(run, newId));
  }
  return { batches, generated: count, settled, sourceBatches };
}

/** The queued batches as consecutive seals take them (usage-coalesce.ts `seal`: its two caps). */
function sealRuns(queued) {
  const runs = [];
  let run = [];
  let rows = 0;
  for (const b of queued) {
    if (run.length > 0 && (run.length >= SEAL_SCAN_ROWS || rows + b.rows.length > MAX_SEAL_SOURCE_ROWS)) {
      runs.push(run);
      run = [];
      rows = 0;
    }
    run.push(b);
    rows += b.rows.length;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

function pickApi(rand, apis) {
  let r = rand();
  for (const api of apis) {
    r -= api.share;
    if (r < 0) return api;
  }
  return apis[0];
}

function pick(rand, mix) {
  let r = rand();
  for (const entry of mix) {
    r -= entry[1];
    if (r < 0) return entry;
  }
  return mix[0];
}

const HOUR_MS = 3_600_000;
const ATTEMPTS = new Set(["payment_settled", "served", "tenant_error", "settlement_failed"]);
const fingerprints = new Map();

/** The challenged request's fingerprint: one of PATHS requests of the API (a v1-shaped hex). */
function fingerprintOf(api, path) {
  const key = `${api.slug}|${path}`;
  let fp = fingerprints.get(key);
  if (!fp) {
    let h = 0x811c9dc5;
    for (const ch of key) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    fingerprints.set(key, (fp = `v1:${h.toString(16).padStart(8, "0").repeat(8)}`));
  }
  return fp;
}

function makeRecord(model, api, g) {
  const { rand, timeline, identities } = model;
  const paid = api.priceUsd > 0;
  const [outcome, , status] = pick(rand, paid ? model.paidMix : model.freeMix);
  const who = identities[rankOf(rand())];
  const gauss = (rand() + rand() + rand() + rand() - 2) * 1.7;
  const latencyMs = ATTEMPTS.has(outcome) ? Math.round(40 * Math.exp(0.8 * gauss)) : 1 + Math.floor(rand() * 5);
  const hours = Math.ceil(timeline.total / CALLS_PER_HOUR);
  const hourStart = Math.floor(timeline.endMs / HOUR_MS - hours + Math.floor(g / CALLS_PER_HOUR)) * HOUR_MS;
  const ts = hourStart + Math.floor(((g % CALLS_PER_HOUR) * HOUR_MS) / CALLS_PER_HOUR);
  const record = { requestId: `r${g}`, ts, caller: paid ? who.wallet : who.ip, status, latencyMs, outcome };
  if (rand() < MCP_SHARE) record.transport = "mcp";
  if (outcome === "payment_challenged") record.fingerprint = fingerprintOf(api, Math.floor(rand() * PATHS));
  return record;
}
