// Leased admission benchmarks (issue 14, docs/ARCHITECTURE.md §14), `BENCH_ONLY=lease` alone:
//   distance  the metered free call's p50 through the whole dispatcher with every TenantMeter RPC
//             delayed by BENCH_METER_DELAY_MS (src/tenancy/meter-delay.ts, bench-only) vs
//             without: two dispatchers up at once, same tenant and load, loaded in interleaved
//             rounds;
//   hot       one hot tenant in a bench Worker (bench/lease-worker): 4 lease holders (simulated
//             isolates) vs one TenantMeter.admit RPC per call, calls/s and over-admission (must
//             be 0) against a daily quota the run exhausts.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BENCH_CREATOR, createCreator, deployDemo } from "../cli/dev/seed.ts";
import { ensureDevSecrets } from "../cli/local/dev-vars.ts";
import { startDispatcher, startWranglerDev, WRANGLER_ENV, WRANGLER_JS } from "../cli/local/dispatcher.ts";
import { REPO_ROOT } from "../cli/local/paths.ts";
import { runToCompletion } from "../cli/local/processes.ts";
import { HIGH_LIMITS, load, type LoadResult } from "./load.ts";
import { mean, median } from "./stats.ts";

const DISTANCE_MS = Number(process.env.BENCH_METER_DELAY_MS ?? 20);
const HOT_CALLS = Number(process.env.BENCH_LEASE_CALLS ?? 20_000);
const HOT_CONCURRENCY = 40;
const HOT_HOLDERS = 4;
const WORKER_CONFIG = join(REPO_ROOT, "bench", "lease-worker", "wrangler.jsonc");

export interface LeaseBenchOptions {
  seconds: number;
  connections: number;
  rounds: number;
}

interface HotResult {
  mode: "rpc" | "lease";
  holders: number;
  calls: number;
  limit: number;
  admitted: number;
  overAdmitted: number;
  underAdmitted: number;
  rpcs: number;
  ms: number;
  callsPerSec: number | null;
}

/**
 * The distance comparison runs many short rounds: this machine's speed moves by a third from one
 * 4 s load to the next (BENCHMARKS.md), so two long rounds per side left ±2 ms of noise on a
 * 2 ms target. Each round loads both sides back to back, the order alternating, and the growth is
 * the median of the rounds' differences.
 */
const distanceRounds = (opts: LeaseBenchOptions) => 4 * opts.rounds;
const roundSeconds = (opts: LeaseBenchOptions) => Math.max(2, Math.round(opts.seconds / 4));

interface Side {
  delayMs: number;
  url: string;
  stop: () => Promise<void>;
}

/** A fresh dispatcher whose meter RPCs wait `delayMs`, with the metered free tenant deployed and warm. */
async function startSide(stateDir: string, delayMs: number, opts: LeaseBenchOptions): Promise<Side> {
  const secrets = ensureDevSecrets();
  const vars: Record<string, string> = delayMs > 0 ? { BENCH_METER_DELAY_MS: String(delayMs) } : {};
  const dispatcher = await startDispatcher({ persistTo: join(stateDir, `lease-distance-${delayMs}`), vars });
  try {
    const creator = await createCreator(dispatcher.url, secrets.OPERATOR_TOKEN, BENCH_CREATOR);
    await deployDemo(dispatcher.url, creator.key, {
      slug: "bench-lease",
      file: "world-cities.csv",
      config: HIGH_LIMITS,
    });
    const url = `${dispatcher.url}/t/bench-lease/v1/records?country=JP&limit=5`;
    await load("warm-up", url, { seconds: 2, connections: opts.connections });
    return { delayMs, url, stop: () => dispatcher.stop() };
  } catch (err) {
    await dispatcher.stop();
    throw err;
  }
}

/**
 * The metered free call with the meter near and `DISTANCE_MS` away: both dispatchers up at once
 * and loaded in turn, in rounds whose order alternates, so drift and order hit both sides alike.
 */
async function distance(stateDir: string, opts: LeaseBenchOptions): Promise<{ near: LoadResult[]; far: LoadResult[] }> {
  const near = await startSide(stateDir, 0, opts);
  try {
    const far = await startSide(stateDir, DISTANCE_MS, opts);
    try {
      const results = { near: [] as LoadResult[], far: [] as LoadResult[] };
      const seconds = roundSeconds(opts);
      for (let round = 0; round < distanceRounds(opts); round++) {
        for (const side of round % 2 === 0 ? [near, far] : [far, near]) {
          const label = `metered free call, meter ${side.delayMs} ms away`;
          const result = await load(label, side.url, { seconds, connections: opts.connections });
          (side === near ? results.near : results.far).push(result);
        }
      }
      return results;
    } finally {
      await far.stop();
    }
  } finally {
    await near.stop();
  }
}

/** Bundles the Worker once and runs the bundle (no_bundle), as bench/leaderboard.ts does. */
async function bundleWorker(dir: string): Promise<string> {
  const outdir = join(dir, "out");
  const args = [WRANGLER_JS, "deploy", "--dry-run", "--outdir", outdir, "--config", WORKER_CONFIG];
  await runToCompletion(process.execPath, args, { cwd: REPO_ROOT, env: WRANGLER_ENV });
  const source = JSON.parse(readFileSync(WORKER_CONFIG, "utf8").replace(/^\s*\/\/.*$/gm, "")) as object;
  const path = join(dir, "wrangler.json");
  writeFileSync(path, JSON.stringify({ ...source, main: join(outdir, "index.js"), no_bundle: true }, null, 2));
  return path;
}

async function hotTenant(stateDir: string, rounds: number): Promise<HotResult[]> {
  const config = await bundleWorker(join(stateDir, "lease-bundle"));
  const worker = await startWranglerDev({ config, persistTo: join(stateDir, "lease-hot") });
  try {
    const results: HotResult[] = [];
    const q = { calls: String(HOT_CALLS), concurrency: String(HOT_CONCURRENCY), holders: String(HOT_HOLDERS) };
    // Interleaved rounds so drift hits both modes alike.
    for (let round = 0; round < rounds; round++) {
      for (const mode of ["rpc", "lease"]) {
        const res = await fetch(`${worker.url}/hot?${new URLSearchParams({ ...q, mode })}`, { method: "POST" });
        if (!res.ok) throw new Error(`POST /hot → ${res.status}: ${await res.text()}`);
        results.push((await res.json()) as HotResult);
      }
    }
    return results;
  } finally {
    await worker.stop();
  }
}

export async function benchLease(stateDir: string, opts: LeaseBenchOptions): Promise<string[]> {
  const { near, far } = await distance(stateDir, opts);
  const hot = await hotTenant(stateDir, opts.rounds);
  const byMode = (m: HotResult["mode"]) => hot.filter((r) => r.mode === m);
  const rate = (m: HotResult["mode"]) => mean(byMode(m).map((r) => r.callsPerSec ?? 0));
  const over = hot.reduce((n, r) => n + r.overAdmitted, 0);
  const side = (label: string, rs: LoadResult[]) =>
    `| ${label} | ${mean(rs.map((r) => r.requestsPerSec)).toFixed(0)} | ${mean(rs.map((r) => r.medianMs)).toFixed(2)}` +
    ` | ${mean(rs.map((r) => r.p99Ms)).toFixed(1)} | ${rs.reduce((n, r) => n + r.non2xx + r.errors, 0)} |`;
  const differences = far.map((r, i) => r.medianMs - near[i]!.medianMs).sort((a, b) => a - b);
  const growth = median(differences);
  return [
    `## Leased admission`,
    ``,
    `Command: \`BENCH_ONLY=lease npm run bench\` (autocannon, ${opts.connections} connections; two fresh` +
      ` dispatchers up at once, loaded in turn: ${distanceRounds(opts)} rounds of` +
      ` ${roundSeconds(opts)} s per side, back to back, the order alternating; BENCH_METER_DELAY_MS=${DISTANCE_MS} delays every` +
      ` TenantMeter RPC of the second; p50 is the median of the per-response times, mean over the rounds)`,
    ``,
    `| metered free call | req/s | p50 ms | p99 ms | non-2xx + errors |`,
    `| --- | ---: | ---: | ---: | ---: |`,
    side("meter 0 ms away", near),
    side(`meter ${DISTANCE_MS} ms away`, far),
    ``,
    `**p50 growth with the meter ${DISTANCE_MS} ms away: ${growth.toFixed(2)} ms** (target < 2 ms; the median of` +
      ` the ${differences.length} rounds' differences, which ranged ${differences[0]!.toFixed(2)} to ${differences.at(-1)!.toFixed(2)} ms)`,
    ``,
    `One hot tenant in bench/lease-worker: ${HOT_CALLS} calls per run, ${HOT_CONCURRENCY} concurrent` +
      ` loops, daily quota at 90% of the calls, ${opts.rounds} interleaved rounds`,
    ``,
    `| mode | holders | calls/s | RPCs | admitted | limit | over-admitted | under-admitted |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...hot.map(
      (r) =>
        `| ${r.mode} | ${r.holders} | ${(r.callsPerSec ?? 0).toFixed(0)} | ${r.rpcs} | ${r.admitted} | ${r.limit}` +
        ` | ${r.overAdmitted} | ${r.underAdmitted} |`,
    ),
    ``,
    `**Ratio ${HOT_HOLDERS} lease holders / one RPC per call: ${(rate("lease") / rate("rpc")).toFixed(2)}×**` +
      ` (target ≥ 5×); over-admitted: ${over} (must be 0)`,
    ``,
  ];
}
