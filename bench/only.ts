// `BENCH_ONLY=explore|mcp|datasets`: one part of `npm run bench` on its own fresh local stack
// (own state dir, free port), seeded with only what that part needs, so one change can be
// measured before and after without the whole run. The report lines are the full run's.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalStack } from "../cli/dev/stack.ts";
import { freePort } from "../cli/local/ports.ts";
import { deployDemo, ensureDevCreator } from "../cli/dev/seed.ts";
import { benchExplore, exploreReport } from "./explore.ts";
import { benchMcpCalls, mcpReport } from "./mcp.ts";
import { benchDatasets } from "./datasets.ts";

export const ONLY_PARTS = ["explore", "mcp", "datasets"] as const;
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
  const stack = await startLocalStack({ port: await freePort(), persistTo: join(state, "wrangler") });
  try {
    const creator = await ensureDevCreator(stack.apiUrl, stack.secrets.OPERATOR_TOKEN);
    if (part === "datasets") return await benchDatasets(stack.apiUrl, creator.key);
    if (part === "mcp") {
      const { payments } = stack;
      const config = { priceUsd: 0.001, payTo: payments.accounts.payTo.address, network: payments.network };
      await deployDemo(stack.apiUrl, creator.key, {
        slug: "bench-paid",
        file: "world-cities.csv",
        config: { ...config, asset: payments.asset },
      });
      return mcpReport(await benchMcpCalls(stack, "bench-paid", { calls: opts.paidCalls }));
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
