// `BENCH_ONLY=free|explore|mcp|datasets|profile`: one part of `npm run bench` on its own fresh local stack
// (own state dir, free port), seeded with only what that part needs, so one change can be
// measured before and after without the whole run. The report lines are the full run's.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalStack } from "../cli/dev/stack.ts";
import { freePort } from "../cli/local/ports.ts";
import { BENCH_CREATOR, createCreator, deployDemo } from "../cli/dev/seed.ts";
import { benchExplore, exploreReport } from "./explore.ts";
import { benchMcpCalls, mcpReport } from "./mcp.ts";
import { benchDatasets } from "./datasets.ts";
import { directDispatcherUrl } from "./direct-socket.ts";
import type { LocalStack } from "../cli/dev/stack.ts";
import { deployPaidDemo, PAID_SLUG, payingFetch } from "./paid.ts";
import { profileUnderLoad, profileWhile } from "./profile.ts";
import { benchFree, FREE_VARS } from "./free.ts";
import { HIGH_LIMITS, load } from "./load.ts";

export const ONLY_PARTS = ["free", "explore", "mcp", "datasets", "profile"] as const;
export type OnlyPart = (typeof ONLY_PARTS)[number];

export function isOnlyPart(name: string): name is OnlyPart {
  return (ONLY_PARTS as readonly string[]).includes(name);
}

export interface OnlyOptions {
  seconds: number;
  connections: number;
  rounds: number;
  paidCalls: number;
}

export async function benchOnly(part: OnlyPart, opts: OnlyOptions): Promise<string[]> {
  const state = mkdtempSync(join(tmpdir(), "claw-bench-"));
  process.env.CLAW_DEV_STATE_DIR ??= join(state, "claw");
  const stack = await startLocalStack({ port: await freePort(), persistTo: join(state, "wrangler"), vars: FREE_VARS });
  try {
    const creator = await createCreator(stack.apiUrl, stack.secrets.OPERATOR_TOKEN, BENCH_CREATOR);
    if (part === "free") return await benchFree(stack.apiUrl, creator.key, opts);
    if (part === "datasets") {
      const { dispatcher } = stack;
      const direct = await directDispatcherUrl(dispatcher.process.child.pid!, dispatcher.port);
      return await benchDatasets(stack.apiUrl, creator.key, direct);
    }
    if (part === "profile" && process.env.BENCH_PROFILE_PAID) return await profilePaid(stack, creator.key, opts);
    if (part === "profile") return await profileFree(stack.apiUrl, stack.dispatcher.inspectorPort, creator.key, opts);
    if (part === "mcp") {
      await deployPaidDemo(stack, creator.key);
      return mcpReport(await benchMcpCalls(stack, PAID_SLUG, { calls: opts.paidCalls }));
    }
    // explore: one free API with some traffic, rolled up, so the page lists it.
    await deployDemo(stack.apiUrl, creator.key, { slug: "bench-cities", file: "world-cities.csv", config: {} });
    for (let i = 0; i < 20; i++) await (await fetch(`${stack.apiUrl}/t/bench-cities/v1/records?limit=5`)).text();
    const res = await fetch(`${stack.apiUrl}/__platform/rollup`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.secrets.OPERATOR_TOKEN}` },
    });
    if (!res.ok) throw new Error(`POST /__platform/rollup → ${res.status}: ${await res.text()}`);
    const explore = await benchExplore(stack.apiUrl, { ...opts, apis: ["bench-cities"] });
    return exploreReport(explore, opts);
  } finally {
    await stack.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

/** The metered free call (or BENCH_PROFILE_PATH) under a CPU profile of every isolate. */
async function profileFree(apiUrl: string, inspectorPort: number, creatorKey: string, opts: OnlyOptions) {
  await deployDemo(apiUrl, creatorKey, { slug: "bench-cities", file: "world-cities.csv", config: HIGH_LIMITS });
  const url = `${apiUrl}${process.env.BENCH_PROFILE_PATH ?? "/t/bench-cities/v1/records?country=JP&limit=5"}`;
  await load("warm-up", url, { seconds: 2, connections: opts.connections });
  return profileUnderLoad(inspectorPort, url, { seconds: opts.seconds, connections: opts.connections });
}

/** `BENCH_PROFILE_PAID=1`: sequential paid calls with @x402/fetch under a CPU profile. */
async function profilePaid(stack: LocalStack, creatorKey: string, opts: OnlyOptions) {
  const url = await deployPaidDemo(stack, creatorKey);
  const pay = payingFetch(stack.payments);
  for (let i = 0; i < 5; i++) await (await pay(url)).arrayBuffer();
  return profileWhile(stack.dispatcher.inspectorPort, async () => {
    const t0 = performance.now();
    for (let i = 0; i < opts.paidCalls; i++) await (await pay(url)).arrayBuffer();
    return `Profiled ${opts.paidCalls} sequential paid calls: ${((performance.now() - t0) / opts.paidCalls).toFixed(1)} ms each`;
  });
}
