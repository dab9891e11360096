// Leaderboard benchmarks (issues 4 and 14, docs/ARCHITECTURE.md §10):
//   ingest   events/s into ONE Leaderboard shard, batches of 500 (the TenantMeter outbox's
//            delivery size), realistic events (random UUID request ids, ~1000 callers, five APIs
//            on the shard, mixed lifecycles), sent by RPC from a Worker, one batch at a time;
//   batched  the same number of calls into another (empty) shard as the TenantMeters now send
//            them (bench/leaderboard-worker/traffic.js, production functions at every step): a
//            shard at 50k calls/s, callers Zipf(1.1) over 10,000 identities, the five APIs, one
//            hour of timeline per 100k calls; folded per isolate and 50 ms (the dispatcher's fold), applied
//            (the meter's Leaderboard rows: settlements excluded, they travel one event per
//            payment) and coalesced per tenant and 1 s (the meter's sealed delivery batches),
//            BATCHES_PER_RPC per `ingestBatches` RPC. A "call" here is one call carried by an
//            aggregated batch; the report gives calls/s AND rows/s per chunk, the calls-per-row
//            ratio the traffic produced, and the rates after 0.2M, 0.5M, 1M and 2M calls (each
//            with the shard's rows and bytes), so "flat as it fills" reads off one table;
//   rollup   the coordinator's rollup over those events (1M by default), and where its time goes;
//   reads    GET /v1/leaderboard p99 under load vs GET /health on the bench's dispatcher.
// ingest and rollup run the real Leaderboard DO in a bench Worker (bench/leaderboard-worker)
// under its own `wrangler dev` with its own state dir, after the dispatcher has stopped, so
// nothing else competes for the two cores.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startWranglerDev, WRANGLER_ENV, WRANGLER_JS } from "../cli/local/dispatcher.ts";
import { REPO_ROOT } from "../cli/local/paths.ts";
import { runToCompletion } from "../cli/local/processes.ts";
import { type BatchedResult, batchedReport, type IngestChunk } from "./leaderboard-batched.ts";
import { load, type LoadResult } from "./load.ts";
import { mean } from "./stats.ts";

const WORKER_CONFIG = join(REPO_ROOT, "bench", "leaderboard-worker", "wrangler.jsonc");

export type { IngestChunk };

export interface RollupReport {
  seeded: { creators: number; tenants: number; linkedWallets: number };
  rollup: { version: number; changed: boolean; durationMs: number; wallMs: number; apis: number; shards: number };
  breakdown: {
    catalogMs: number;
    exportMs: number;
    scoreMs: number;
    writeMs: number;
    writeChanged: boolean;
    exportJsonBytes: number;
    exportPairs: Record<string, number>;
    rankedWeek: number;
    entriesWeek: number;
  };
}

export interface IngestRollupResult {
  totalEvents: number;
  batch: number;
  chunks: IngestChunk[];
  rollup: RollupReport;
  /** The same timeline as aggregated batches into an empty shard (absent when skipped). */
  batched?: BatchedResult;
}

/** The batched mode's timeline: one hour per 100k calls (traffic.js CALLS_PER_HOUR), ending now. */
const BATCHED_CALLS_PER_HOUR = 100_000;
/** Aggregated batches per ingestBatches RPC, as objects/meter/usage-outbox.ts sends them. */
const BATCHES_PER_RPC = 5;

/**
 * Bundles the bench Worker once (`wrangler deploy --dry-run --outdir`) and returns a config that
 * runs that bundle with `no_bundle`: wrangler dev watches the sources it bundles and restarts the
 * Worker when one changes, which would break (or skew) a minutes-long run while src/ or objects/
 * are being edited. The run measures the code as it was when it started.
 */
async function bundleWorker(dir: string): Promise<string> {
  const outdir = join(dir, "out");
  await runToCompletion(
    process.execPath,
    [WRANGLER_JS, "deploy", "--dry-run", "--outdir", outdir, "--config", WORKER_CONFIG],
    { cwd: REPO_ROOT, env: WRANGLER_ENV },
  );
  const source = JSON.parse(readFileSync(WORKER_CONFIG, "utf8").replace(/^\s*\/\/.*$/gm, "")) as {
    d1_databases: { migrations_dir: string }[];
  } & Record<string, unknown>;
  const config = {
    ...source,
    main: join(outdir, "index.js"),
    no_bundle: true,
    d1_databases: source.d1_databases.map((d) => ({ ...d, migrations_dir: join(REPO_ROOT, "migrations") })),
  };
  const path = join(dir, "wrangler.json");
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

async function post<T>(url: string): Promise<T> {
  const res = await fetch(url, { method: "POST" });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url} → ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Ingests `totalEvents` (in `chunk`-event requests, each `batch`-event RPCs), then rolls up. */
export async function benchLeaderboardIngest(
  stateDir: string,
  opts: { totalEvents: number; batch: number; chunk: number; batched?: boolean; log?: (line: string) => void },
): Promise<IngestRollupResult> {
  const persistTo = join(stateDir, "leaderboard");
  const config = await bundleWorker(join(stateDir, "leaderboard-bundle"));
  await runToCompletion(
    process.execPath,
    [WRANGLER_JS, "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo, "--config", config],
    { cwd: REPO_ROOT, env: WRANGLER_ENV },
  );
  const worker = await startWranglerDev({ config, persistTo });
  try {
    const endMs = Date.now();
    const chunks: IngestChunk[] = [];
    for (let offset = 0; offset < opts.totalEvents; offset += opts.chunk) {
      const events = Math.min(opts.chunk, opts.totalEvents - offset);
      const q = new URLSearchParams({
        events: String(events),
        offset: String(offset),
        total: String(opts.totalEvents),
        batch: String(opts.batch),
        endMs: String(endMs),
        spanHours: "168",
      });
      const c = await post<IngestChunk>(`${worker.url}/ingest?${q}`);
      chunks.push(c);
      opts.log?.(
        `leaderboard ingest: ${offset + events}/${opts.totalEvents} events, this chunk ${c.eventsPerSec.toFixed(0)} events/s`,
      );
    }
    const rollup = await post<RollupReport>(`${worker.url}/rollup`);
    const batchedChunks: IngestChunk[] = [];
    const batchedSetup = { callsPerHour: BATCHED_CALLS_PER_HOUR, perRpc: BATCHES_PER_RPC, chunks: batchedChunks };
    const batched = opts.batched === false ? undefined : batchedSetup;
    for (let offset = 0; batched && offset < opts.totalEvents; offset += opts.chunk) {
      const events = Math.min(opts.chunk, opts.totalEvents - offset);
      const q = new URLSearchParams({
        events: String(events),
        offset: String(offset),
        total: String(opts.totalEvents),
        endMs: String(endMs),
        mode: "batches",
        shard: "bench-batched",
        perRpc: String(BATCHES_PER_RPC),
      });
      const c = await post<IngestChunk>(`${worker.url}/ingest?${q}`);
      batched.chunks.push(c);
      opts.log?.(
        `leaderboard batched ingest: ${offset + events}/${opts.totalEvents} calls generated, this chunk ` +
          `${c.eventsPerSec.toFixed(0)} calls/s, ${(c.rowsPerSec ?? 0).toFixed(0)} rows/s`,
      );
    }
    return { totalEvents: opts.totalEvents, batch: opts.batch, chunks, rollup, ...(batched ? { batched } : {}) };
  } catch (err) {
    throw new Error(`${(err as Error).message}\nwrangler dev output (tail):\n${worker.process.output().slice(-4000)}`, {
      cause: err,
    });
  } finally {
    await worker.stop();
  }
}

export interface ReadResult {
  rollup: { version: number; changed: boolean; durationMs: number; apis: number };
  snapshot: { ranked: number; emerging: number; bytes: number };
  leaderboard: LoadResult[];
  health: LoadResult[];
}

/** Forces a rollup on the dispatcher, then loads the leaderboard read and /health, interleaved. */
export async function benchLeaderboardReads(
  baseUrl: string,
  operatorToken: string,
  opts: { seconds: number; connections: number; rounds: number },
): Promise<ReadResult> {
  const res = await fetch(`${baseUrl}/__platform/rollup`, {
    method: "POST",
    headers: { authorization: `Bearer ${operatorToken}` },
  });
  if (!res.ok) throw new Error(`POST /__platform/rollup → ${res.status}: ${await res.text()}`);
  const rollup = (await res.json()) as ReadResult["rollup"];
  const url = `${baseUrl}/v1/leaderboard?window=week&top=20`;
  const sample = await fetch(url);
  const text = await sample.text();
  if (!sample.ok) throw new Error(`GET ${url} → ${sample.status}: ${text}`);
  const body = JSON.parse(text) as { totals: { ranked: number; emerging: number } };
  const health = `${baseUrl}/health`;
  await load("warm-up", url, { seconds: 2, connections: opts.connections });
  const runs: { leaderboard: LoadResult[]; health: LoadResult[] } = { leaderboard: [], health: [] };
  for (let round = 0; round < opts.rounds; round++) {
    runs.health.push(await load("GET /health", health, { seconds: opts.seconds, connections: opts.connections }));
    runs.leaderboard.push(
      await load("GET /v1/leaderboard", url, { seconds: opts.seconds, connections: opts.connections }),
    );
  }
  return {
    rollup,
    snapshot: { ranked: body.totals.ranked, emerging: body.totals.emerging, bytes: text.length },
    ...runs,
  };
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");

/** Markdown for the report: the ingest/rollup part (null when it was skipped) and the read part. */
export function leaderboardReport(
  ingest: IngestRollupResult | null,
  reads: ReadResult | null,
  opts: { connections: number; rounds: number; seconds: number },
): string[] {
  const lines: string[] = [`## Leaderboard (issue 4)`, ``];
  if (ingest) {
    const events = ingest.chunks.reduce((n, c) => n + c.events, 0);
    const rpcMs = ingest.chunks.reduce((n, c) => n + c.rpcMs, 0);
    const generateMs = ingest.chunks.reduce((n, c) => n + c.generateMs, 0);
    const accepted = ingest.chunks.reduce((n, c) => n + c.accepted, 0);
    const rejected = ingest.chunks.reduce((n, c) => n + c.rejected + c.duplicates, 0);
    const first = ingest.chunks[0]!;
    const last = ingest.chunks[ingest.chunks.length - 1]!;
    const worstP99 = Math.max(...ingest.chunks.map((c) => c.batchMs.p99));
    const r = ingest.rollup;
    lines.push(
      `### Ingest into one shard, then rollup`,
      ``,
      `Command: \`npm run bench\` (bench Worker \`bench/leaderboard-worker\` with the real Leaderboard DO under its own wrangler dev; ${int(ingest.totalEvents)} events over a 7-day timeline in time order, ` +
        `batches of ${ingest.batch} sent one at a time by RPC from the Worker; random UUID request ids, 1000 callers, 5 APIs on the shard, mixed lifecycles)`,
      ``,
      `| measure | value |`,
      `| --- | ---: |`,
      `| events ingested (accepted / duplicate + rejected) | ${int(events)} (${int(accepted)} / ${int(rejected)}) |`,
      `| **ingest, all ${int(events)} events** | **${int((events / rpcMs) * 1000)} events/s** (${(rpcMs / 1000).toFixed(1)} s of back-to-back batch RPCs; generating the events took ${(generateMs / 1000).toFixed(1)} s more, not counted) |`,
      ...(ingest.chunks.length > 1
        ? [
            `| ingest, first ${int(first.events)} events (empty shard) | ${int(first.eventsPerSec)} events/s, batch p50 ${first.batchMs.p50.toFixed(1)} ms, p99 ${first.batchMs.p99.toFixed(1)} ms |`,
            `| ingest, last ${int(last.events)} events | ${int(last.eventsPerSec)} events/s, batch p50 ${last.batchMs.p50.toFixed(1)} ms, p99 ${last.batchMs.p99.toFixed(1)} ms |`,
            `| worst batch p99 of any ${int(first.events)}-event chunk | ${worstP99.toFixed(1)} ms |`,
          ]
        : [
            `| batch of ${ingest.batch}: p50 / p99 / max | ${first.batchMs.p50.toFixed(1)} / ${first.batchMs.p99.toFixed(1)} / ${first.batchMs.max.toFixed(1)} ms |`,
          ]),
      `| **rollup over ${int(events)} events** (coordinator \`rollup()\`, ${r.rollup.apis} APIs, ${r.rollup.shards} shard) | **${(r.rollup.durationMs / 1000).toFixed(2)} s** (RPC wall ${(r.rollup.wallMs / 1000).toFixed(2)} s) |`,
      `| rollup steps (replayed): catalog / shard export / scoring / D1 write | ${r.breakdown.catalogMs.toFixed(0)} / ${r.breakdown.exportMs.toFixed(0)} / ${r.breakdown.scoreMs.toFixed(0)} / ${r.breakdown.writeMs.toFixed(0)} ms${r.breakdown.writeChanged ? "" : " (unchanged: no write)"} |`,
      `| shard export: (API, payer) pairs today / week / overall, JSON size | ${Object.values(r.breakdown.exportPairs).map(int).join(" / ")}, ${(r.breakdown.exportJsonBytes / 1024).toFixed(0)} KiB |`,
      ``,
    );
    if (ingest.chunks.length > 1)
      lines.push(
        `Per-chunk ingest rate (${int(first.events)} events each), events/s: ${ingest.chunks.map((c) => int(c.eventsPerSec)).join(", ")}`,
        ``,
      );
    if (ingest.batched) lines.push(...batchedReport(ingest.batched, ingest.chunks));
  }
  if (reads) {
    const l = reads.leaderboard;
    const h = reads.health;
    const p99l = mean(l.map((x) => x.p99Ms));
    const p99h = mean(h.map((x) => x.p99Ms));
    const failures = [...l, ...h].reduce((n, x) => n + x.non2xx + x.errors, 0);
    lines.push(
      `### Snapshot read under load: \`GET /v1/leaderboard?window=week&top=20\` vs \`GET /health\``,
      ``,
      `Command: \`npm run bench\` (the bench's dispatcher after the paid section; \`POST /__platform/rollup\` first (${reads.rollup.durationMs} ms, ${reads.rollup.apis} APIs; ` +
        `snapshot: ${reads.snapshot.ranked} ranked + ${reads.snapshot.emerging} emerging, ${int(reads.snapshot.bytes)}-byte body); autocannon, ${opts.connections} connections, ${opts.rounds}×${opts.seconds}s interleaved rounds)`,
      ``,
      `| endpoint | req/s (mean) | p50 ms | p99 ms | non-2xx + errors |`,
      `| --- | ---: | ---: | ---: | ---: |`,
      `| GET /health | ${mean(h.map((x) => x.requestsPerSec)).toFixed(0)} | ${mean(h.map((x) => x.p50Ms)).toFixed(1)} | ${p99h.toFixed(1)} | ${h.reduce((n, x) => n + x.non2xx + x.errors, 0)} |`,
      `| GET /v1/leaderboard?window=week&top=20 | ${mean(l.map((x) => x.requestsPerSec)).toFixed(0)} | ${mean(l.map((x) => x.p50Ms)).toFixed(1)} | ${p99l.toFixed(1)} | ${l.reduce((n, x) => n + x.non2xx + x.errors, 0)} |`,
      ``,
      `**Ratio p99 leaderboard / health: ${(p99l / p99h).toFixed(2)}**; req/s ratio ${(mean(l.map((x) => x.requestsPerSec)) / mean(h.map((x) => x.requestsPerSec))).toFixed(2)}`,
      ``,
    );
    if (failures > 0)
      lines.push(`WARNING: ${failures} non-2xx responses or errors during the leaderboard read run.`, ``);
  }
  return lines;
}
