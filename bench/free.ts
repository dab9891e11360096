// The metered free call (issue 14): `GET /health`, the metered free dataset call and the same call
// with the meter skipped (BENCH_UNMETERED_SLUG, bench-only: no admit, no usage or telemetry record,
// same Worker Loader hop) on one dispatcher, in interleaved rounds so drift hits all three alike.
// Targets: metered / health ≥ 0.6 and metered / unmetered ≥ 0.8 (req/s, same run).
import { cpus, totalmem } from "node:os";
import { deployDemo } from "../cli/dev/seed.ts";
import { statusesOf } from "./explore.ts";
import { HIGH_LIMITS, load, type LoadResult } from "./load.ts";
import { mean } from "./stats.ts";

/** The tenant the bench dispatcher serves unmetered (its var BENCH_UNMETERED_SLUG). */
export const UNMETERED_SLUG = "bench-cities-raw";
export const FREE_VARS = { BENCH_UNMETERED_SLUG: UNMETERED_SLUG };

export interface FreeOptions {
  seconds: number;
  connections: number;
  rounds: number;
}

const QUERY = "/v1/records?country=JP&limit=5";

export async function benchFree(apiUrl: string, creatorKey: string, opts: FreeOptions): Promise<string[]> {
  for (const slug of ["bench-cities", UNMETERED_SLUG]) {
    await deployDemo(apiUrl, creatorKey, { slug, file: "world-cities.csv", config: HIGH_LIMITS });
  }
  const sides = [
    { name: "GET /health", url: `${apiUrl}/health` },
    { name: "GET /t/bench-cities/v1/records (metered, free)", url: `${apiUrl}/t/bench-cities${QUERY}` },
    { name: `the same call unmetered (${UNMETERED_SLUG})`, url: `${apiUrl}/t/${UNMETERED_SLUG}${QUERY}` },
  ];
  for (const side of sides.slice(1)) await load("warm-up", side.url, { seconds: 2, connections: opts.connections });
  const runs: LoadResult[][] = sides.map(() => []);
  for (let round = 0; round < opts.rounds; round++) {
    for (const [i, side] of sides.entries()) {
      runs[i]!.push(await load(side.name, side.url, { seconds: opts.seconds, connections: opts.connections }));
    }
  }
  const rps = runs.map((r) => mean(r.map((x) => x.requestsPerSec)));
  const [health, metered, unmetered] = rps as [number, number, number];
  const failures = runs.flat().reduce((n, r) => n + r.non2xx + r.errors, 0);
  return [
    `## Metered free call vs plain /health and vs the same call unmetered`,
    ``,
    `Command: \`npm run bench\` or \`BENCH_ONLY=free npm run bench\` (autocannon, ${opts.connections} connections, ${opts.rounds}×${opts.seconds}s interleaved rounds, wrangler dev on 127.0.0.1; the unmetered side is \`BENCH_UNMETERED_SLUG\`: no admit, no usage or telemetry record, same Worker Loader hop)`,
    `Machine: ${cpus().length}× ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    ``,
    `| endpoint | req/s (mean) | p50 ms | p99 ms | non-2xx + errors |`,
    `| --- | ---: | ---: | ---: | ---: |`,
    ...sides.map((side, i) => {
      const r = runs[i]!;
      const bad = r.reduce((n, x) => n + x.non2xx + x.errors, 0);
      return `| ${side.name} | ${rps[i]!.toFixed(0)} | ${mean(r.map((x) => x.p50Ms)).toFixed(1)} | ${mean(r.map((x) => x.p99Ms)).toFixed(1)} | ${bad} |`;
    }),
    ``,
    `**Ratio metered / health: ${(metered / health).toFixed(2)}** (target ≥ 0.6); **metered / unmetered: ${(metered / unmetered).toFixed(2)}** (target ≥ 0.8); unmetered / health: ${(unmetered / health).toFixed(2)}`,
    ``,
    ...(failures > 0
      ? [`WARNING: ${failures} non-2xx responses or errors during the run (${statusesOf(runs.flat())}).`, ``]
      : []),
  ];
}
