// `npm run bench`: starts a fresh local dispatcher (own state dir, free port), seeds it, and
// measures ratios against a baseline in the same process set (then the leaderboard ingest and
// rollup in their own Worker, bench/leaderboard.ts). Prints a markdown report that
// BENCHMARKS.md quotes; also writes it to bench/results/latest.md (gitignored).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalStack, type LocalStack } from "../cli/dev/stack.ts";
import { freePort } from "../cli/local/ports.ts";
import { benchPaidCalls, deployPaidDemo, FACILITATOR_LEGS, PAID_SLUG } from "./paid.ts";
import { benchUpto } from "./upto.ts";
import { benchDatasets } from "./datasets.ts";
import { directDispatcherUrl } from "./direct-socket.ts";
import { BENCH_CREATOR, createCreator } from "../cli/dev/seed.ts";
import { REPO_ROOT } from "../cli/local/paths.ts";
import { benchLease } from "./lease.ts";
import { benchExplore, exploreReport, type ExploreResult } from "./explore.ts";
import { benchMcpCalls, mcpReport } from "./mcp.ts";
import { benchOnly, isOnlyPart } from "./only.ts";
import { benchFree, FREE_VARS } from "./free.ts";
import {
  benchLeaderboardIngest,
  benchLeaderboardReads,
  leaderboardReport,
  type IngestRollupResult,
  type ReadResult,
} from "./leaderboard.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const PAID_CALLS = Number(process.env.BENCH_PAID_CALLS ?? 200);
/** Events ingested into one Leaderboard shard before the rollup is timed (0 skips that part). */
const LEADERBOARD_EVENTS = Number(process.env.BENCH_LEADERBOARD_EVENTS ?? 1_000_000);
const LEADERBOARD_BATCH = 500; // what the TenantMeter outbox delivers per RPC
/** Paid calls per side of the upto-vs-exact comparison (bench/upto.ts). */
const UPTO_CALLS = Number(process.env.BENCH_UPTO_CALLS ?? 100);
/**
 * `BENCH_ONLY=leaderboard`: only the leaderboard ingest + rollup (its own Worker, no dispatcher);
 * `paid`: only the paid-call comparison (a fresh dispatcher, the two reference sellers);
 * `upto`: only the upto-vs-exact paid calls;
 * `free`, `explore`, `mcp`, `datasets`, `profile`: only that part, on its own stack (bench/only.ts);
 * `lease`: only the leased admission benchmarks (bench/lease.ts).
 */
const ONLY = process.env.BENCH_ONLY ?? "";

function leaderboardIngest(state: string): Promise<IngestRollupResult> {
  return benchLeaderboardIngest(state, {
    totalEvents: LEADERBOARD_EVENTS,
    batch: LEADERBOARD_BATCH,
    chunk: Math.min(50_000, LEADERBOARD_EVENTS),
    log: (line) => process.stderr.write(`${line}\n`),
  });
}

const LOAD_AT_START = loadavg();
const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(" / ");

function writeReport(lines: string[]): void {
  const machine = `Load average (1 / 5 / 15 min) at start: ${fmtLoad(LOAD_AT_START)}; at end: ${fmtLoad(loadavg())}`;
  const report = [machine, ``, ...lines].join("\n");
  mkdirSync(join(REPO_ROOT, "bench", "results"), { recursive: true });
  writeFileSync(join(REPO_ROOT, "bench", "results", "latest.md"), report);
  process.stdout.write(report + "\n");
}

async function leaderboardOnly(): Promise<void> {
  const state = mkdtempSync(join(tmpdir(), "claw-bench-"));
  try {
    const ingest = LEADERBOARD_EVENTS > 0 ? await leaderboardIngest(state) : null;
    writeReport(leaderboardReport(ingest, null, { connections: CONNECTIONS, rounds: ROUNDS, seconds: SECONDS }));
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

async function leaseOnly(): Promise<void> {
  const state = mkdtempSync(join(tmpdir(), "claw-bench-"));
  try {
    writeReport(await benchLease(state, { seconds: SECONDS, connections: CONNECTIONS, rounds: ROUNDS }));
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

async function paidOnly(): Promise<void> {
  const state = mkdtempSync(join(tmpdir(), "claw-bench-"));
  process.env.CLAW_DEV_STATE_DIR ??= join(state, "claw");
  const stack = await startLocalStack({ port: await freePort(), persistTo: join(state, "wrangler") });
  try {
    const creator = await createCreator(stack.dispatcher.url, stack.secrets.OPERATOR_TOKEN, BENCH_CREATOR);
    writeReport(await paidSection(stack, creator.key, state));
  } finally {
    await stack.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

const msList = (p50s: Record<string, number>) =>
  Object.entries(p50s)
    .map(([name, ms]) => `${name} ${ms.toFixed(1)}`)
    .join(", ") || "none reported";

/** The paid-call comparison (bench/paid.ts) on a fresh paid dataset tenant: its report lines. */
async function paidSection(stack: LocalStack, creatorKey: string, state: string): Promise<string[]> {
  const url = await deployPaidDemo(stack, creatorKey);
  const [ours, workerRef, sameRef, nodeRef] = await benchPaidCalls(stack, url, PAID_CALLS, state);
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  return [
    `## Paid call: dispatcher vs @x402/hono reference (same facilitator, same anvil chain)`,
    ``,
    `Command: \`npm run bench\` (${PAID_CALLS} sequential paid calls per target with @x402/fetch, round-robin, after 5 warm-up calls each)`,
    ``,
    `| server | calls | p50 ms | p99 ms | 402 leg p50 ms | client p50 ms | paid leg p50 ms | failures |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...[ours!, workerRef!, sameRef!, nodeRef!].map(
      (r) =>
        `| ${r.label} | ${r.n} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.challengeP50Ms.toFixed(1)} | ${r.clientP50Ms.toFixed(1)} | ${r.paidP50Ms.toFixed(1)} | ${r.failures} |`,
    ),
    ``,
    `Phases of the paid leg (Server-Timing, p50 ms each; workerd's clock moves only at I/O): dispatcher ${msList(ours!.phasesP50Ms)}; reference Worker ${msList(workerRef!.phasesP50Ms)}; same-extensions reference ${msList(sameRef!.phasesP50Ms)}. "client" is @x402/fetch between the 402 and the paid request (reading the offer, signing); the legs are timed to their response headers.`,
    ``,
    `The paid leg at the facilitator (p50 ms each, one clock: ${FACILITATOR_LEGS.join(" · ")}): dispatcher ${msList(ours!.facilitatorLegsP50Ms)}; reference Worker ${msList(workerRef!.facilitatorLegsP50Ms)}; same-extensions reference ${msList(sameRef!.facilitatorLegsP50Ms)}; Node reference ${msList(nodeRef!.facilitatorLegsP50Ms)}.`,
    ``,
    `**Ratio dispatcher / reference in the same runtime: p50 ${ratio(ours!.p50Ms, workerRef!.p50Ms)}, p99 ${ratio(ours!.p99Ms, workerRef!.p99Ms)}** (target ≤ 1.00)`,
    ``,
    `Ratio dispatcher / the same reference selling the same content with the same extensions: p50 ${ratio(ours!.p50Ms, sameRef!.p50Ms)}, p99 ${ratio(ours!.p99Ms, sameRef!.p99Ms)}; that reference / the bare one: p50 ${ratio(sameRef!.p50Ms, workerRef!.p50Ms)} (what the extensions' documents cost a seller)`,
    ``,
    `Ratio dispatcher / Node reference: p50 ${ratio(ours!.p50Ms, nodeRef!.p50Ms)}, p99 ${ratio(ours!.p99Ms, nodeRef!.p99Ms)}`,
    ``,
  ];
}

async function main(): Promise<void> {
  if (ONLY === "leaderboard") return leaderboardOnly();
  if (ONLY === "paid") return paidOnly();
  if (ONLY === "lease") return leaseOnly();
  if (isOnlyPart(ONLY)) {
    const opts = { seconds: SECONDS, connections: CONNECTIONS, rounds: ROUNDS, paidCalls: PAID_CALLS };
    return writeReport(await benchOnly(ONLY, opts));
  }
  const state = mkdtempSync(join(tmpdir(), "claw-bench-"));
  process.env.CLAW_DEV_STATE_DIR ??= join(state, "claw");
  const stack = await startLocalStack({ port: await freePort(), persistTo: join(state, "wrangler"), vars: FREE_VARS });
  const { dispatcher, secrets } = stack;
  const lines: string[] = [];
  let reads: ReadResult | null = null;
  let explore: ExploreResult | null = null;
  let ingest: IngestRollupResult | null = null;
  try {
    try {
      const creator = await createCreator(dispatcher.url, secrets.OPERATOR_TOKEN, BENCH_CREATOR);
      if (ONLY === "upto") return writeReport(await benchUpto(stack, creator.key, UPTO_CALLS));
      // The paid comparison first, on the quiet stack: the reference Worker runs on a fresh one,
      // and the free load test leaves seconds of background work behind (usage batches, outbox
      // deliveries, telemetry) that would land in our paid calls only.
      const paid = await paidSection(stack, creator.key, state);
      lines.push(
        ...(await benchFree(dispatcher.url, creator.key, {
          seconds: SECONDS,
          connections: CONNECTIONS,
          rounds: ROUNDS,
        })),
      );
      lines.push(...paid);

      lines.push(...mcpReport(await benchMcpCalls(stack, PAID_SLUG, { calls: Math.min(PAID_CALLS, 100) })));
      lines.push(...(await benchUpto(stack, creator.key, UPTO_CALLS)));
      const direct = await directDispatcherUrl(dispatcher.process.child.pid!, dispatcher.port);
      lines.push(...(await benchDatasets(dispatcher.url, creator.key, direct)));

      // Leaderboard reads: a snapshot of this run's own traffic, read under load.
      reads = await benchLeaderboardReads(dispatcher.url, secrets.OPERATOR_TOKEN, {
        seconds: SECONDS,
        connections: CONNECTIONS,
        rounds: ROUNDS,
      });
      // The explore page renders from that snapshot (issue 12): under load, interleaved with /health.
      const apis = ["bench-cities", PAID_SLUG, "bench-ten-mb", "bench-rows-100k"];
      explore = await benchExplore(dispatcher.url, {
        seconds: SECONDS,
        connections: CONNECTIONS,
        rounds: ROUNDS,
        apis,
      });
    } finally {
      await stack.stop();
    }
    // Leaderboard ingest + rollup: its own Worker, once the dispatcher is gone (nothing competes).
    if (LEADERBOARD_EVENTS > 0) ingest = await leaderboardIngest(state);
    const leases = await benchLease(state, { seconds: SECONDS, connections: CONNECTIONS, rounds: ROUNDS });
    lines.push(...leaderboardReport(ingest, reads, { connections: CONNECTIONS, rounds: ROUNDS, seconds: SECONDS }));
    if (explore) lines.push(...exploreReport(explore, { connections: CONNECTIONS, rounds: ROUNDS, seconds: SECONDS }));
    lines.push(...leases);
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
  writeReport(lines);
}

await main();
