// Leased admission benchmarks (issue 14, docs/ARCHITECTURE.md §14), `BENCH_ONLY=lease` alone:
//   distance  the metered free call's p50 through the whole dispatcher with every TenantMeter RPC
//             delayed by BENCH_METER_DELAY_MS (src/tenancy/meter-delay.ts, bench-only) vs
//             without: two dispatchers one after the other, same tenant and load;
//   hot       one hot tenant in a bench Worker (bench/lease-worker): 4 lease holders (simulated
//             isolates) vs one TenantMeter.admit RPC per call, calls/s and over-admission (must
//             be 0) against a daily quota the run exhausts.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deployDemo, ensureDevCreator } from "../cli/dev/seed.ts";
import { ensureDevSecrets } from "../cli/local/dev-vars.ts";
import { startDispatcher, startWranglerDev, WRANGLER_ENV, WRANGLER_JS } from "../cli/local/dispatcher.ts";
import { REPO_ROOT } from "../cli/local/paths.ts";
import { runToCompletion } from "../cli/local/processes.ts";
import { HIGH_LIMITS, load, type LoadResult } from "./load.ts";

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

/** The metered free call's load result on a fresh dispatcher whose meter RPCs wait `delayMs`. */
async function meteredCall(stateDir: string, delayMs: number, opts: LeaseBenchOptions): Promise<LoadResult> {
  const secrets = ensureDevSecrets();
  const vars: Record<string, string> = delayMs > 0 ? { BENCH_METER_DELAY_MS: String(delayMs) } : {};
  const dispatcher = await startDispatcher({ persistTo: join(stateDir, `lease-distance-${delayMs}`), vars });
  try {
    const creator = await ensureDevCreator(dispatcher.url, secrets.OPERATOR_TOKEN);
    await deployDemo(dispatcher.url, creator.key, {
      slug: "bench-lease",
      file: "world-cities.csv",
      config: HIGH_LIMITS,
    });
    const url = `${dispatcher.url}/t/bench-lease/v1/records?country=JP&limit=5`;
    await load("warm-up", url, { seconds: 2, connections: opts.connections });
    return await load(`metered free call, meter ${delayMs} ms away`, url, {
      seconds: opts.seconds,
      connections: opts.connections,
    });
  } finally {
    await dispatcher.stop();
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

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export async function benchLease(stateDir: string, opts: LeaseBenchOptions): Promise<string[]> {
  const near = await meteredCall(stateDir, 0, opts);
  const far = await meteredCall(stateDir, DISTANCE_MS, opts);
  const hot = await hotTenant(stateDir, opts.rounds);
  const byMode = (m: HotResult["mode"]) => hot.filter((r) => r.mode === m);
  const rate = (m: HotResult["mode"]) => mean(byMode(m).map((r) => r.callsPerSec ?? 0));
  const over = hot.reduce((n, r) => n + r.overAdmitted, 0);
  const row = (r: LoadResult) =>
    `| ${r.label} | ${r.requestsPerSec.toFixed(0)} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)}` +
    ` | ${r.non2xx + r.errors} |`;
  return [
    `## Leased admission`,
    ``,
    `Command: \`BENCH_ONLY=lease npm run bench\` (autocannon, ${opts.connections} connections,` +
      ` ${opts.seconds} s per side; each side its own fresh dispatcher;` +
      ` BENCH_METER_DELAY_MS=${DISTANCE_MS} delays every TenantMeter RPC)`,
    ``,
    `| metered free call | req/s | p50 ms | p99 ms | non-2xx + errors |`,
    `| --- | ---: | ---: | ---: | ---: |`,
    row(near),
    row(far),
    ``,
    `**p50 growth with the meter ${DISTANCE_MS} ms away: ${(far.p50Ms - near.p50Ms).toFixed(1)} ms**` +
      ` (target < 2 ms)`,
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
