// How your APIs do: `claw stats <name>` (meter + ledger + leaderboard), `claw earnings [name]`,
// and the public `claw leaderboard`.
import { defineCommand } from "citty";
import { PlatformApi } from "../api/platform.ts";
import type { ApiDetailBody, Earnings, LeaderboardEntry, MeterWindow, TenantDetail, WindowName } from "../api/types.ts";
import { CliError, usageError } from "../core/errors.ts";
import { checkSlug } from "../deploy/flags.ts";
import { jsonArg, plural, runCommand, table } from "../core/ui.ts";
import { nameArg } from "./manage.ts";

const WINDOWS: WindowName[] = ["today", "week", "overall"];

function windowArg(value: string): WindowName {
  const w = WINDOWS.find((name) => name === value);
  if (!w) throw usageError(`--window must be today, week or overall, got '${value}'`, "invalid_window");
  return w;
}

type BoardWindow = ApiDetailBody["api"]["windows"][WindowName];

/** Pure: the machine-readable `claw stats` result from the three reads. */
export function statsResult(
  slug: string,
  window: WindowName,
  tenant: TenantDetail,
  earnings: Earnings,
  w: BoardWindow | null,
) {
  const meter: Partial<Record<"today" | "month" | "total", MeterWindow>> = tenant.stats?.windows ?? {};
  const calls = meter.total?.calls ?? 0;
  return {
    slug,
    meter: {
      today: meter.today ?? null,
      month: meter.month ?? null,
      total: meter.total ?? null,
      errorRate: calls > 0 ? (meter.total?.errors ?? 0) / calls : null,
      p95LatencyMs: meter.total?.p95LatencyMs ?? null,
      byTransport: tenant.stats?.transports?.total ?? null,
    },
    revenue: earnings.totals,
    leaderboard: w
      ? {
          window,
          rank: w.rank,
          status: w.status,
          score: w.score,
          calls: w.metrics.calls,
          revenueUsd: w.metrics.revenueUsd,
          payers: w.metrics.payers,
          effectivePayers: w.breakdown.effectivePayers,
          challenges: w.metrics.challenges,
          conversion: w.metrics.challenges > 0 ? Math.min(1, w.metrics.calls / w.metrics.challenges) : null,
          successRate: w.metrics.successRate,
          p95Ms: w.metrics.p95Ms,
          breakdown: w.breakdown,
          metrics: w.metrics,
        }
      : null,
  };
}

function statsText(r: ReturnType<typeof statsResult>): string {
  const pct = (x: number | null) => (x === null ? "–" : `${(x * 100).toFixed(1)}%`);
  const lb = r.leaderboard;
  const today = r.meter.today;
  return [
    r.slug,
    `  calls       ${r.meter.total?.calls ?? 0} total, ${today?.calls ?? 0} today ` +
      `(${today?.served ?? 0} served, ${today?.refused ?? 0} refused)`,
    `  revenue     ${r.revenue.amountUsd} from ${plural(r.revenue.payments, "payment")} (ledger)`,
    `  errors      ${pct(r.meter.errorRate)}   p95 ${r.meter.p95LatencyMs ?? "–"} ms`,
    r.meter.byTransport ? `  transport   ${r.meter.byTransport.http} http, ${r.meter.byTransport.mcp} mcp` : "",
    lb
      ? `  ${lb.window.padEnd(10)}  rank ${lb.rank ?? lb.status}, score ${lb.score}; ` +
        `402→paid ${pct(lb.conversion)} (${lb.calls} of ${plural(lb.challenges, "challenge")}); ` +
        `${plural(lb.payers, "payer")} (effective ${lb.effectivePayers})`
      : "  leaderboard not in the snapshot yet (the rollup runs every minute)",
    lb ? `  score       D ${lb.breakdown.D} · Q ${lb.breakdown.Q} · C ${lb.breakdown.C} · B ${lb.breakdown.B}` : "",
  ]
    .filter(Boolean)
    .join("\n");
}

export const statsCommand = defineCommand({
  meta: {
    name: "stats",
    description: "Calls, revenue, error rate, p95, 402→paid conversion, payers, rank and score breakdown",
  },
  args: {
    ...nameArg,
    window: { type: "string", description: "Leaderboard window: today | week | overall", default: "week" },
    ...jsonArg,
  },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const slug = checkSlug(args.name);
      const window = windowArg(args.window);
      const api = PlatformApi.fromEnv();
      const [tenant, earnings] = await Promise.all([api.getTenant(slug), api.earnings(slug, 1)]);
      let board: ApiDetailBody["api"] | null = null;
      try {
        board = (await api.apiDetail(slug)).api;
      } catch (err) {
        if (!(err instanceof CliError && err.code === "api_not_found")) throw err;
      }
      const result = statsResult(slug, window, tenant, earnings, board?.windows[window] ?? null);
      ui.print(statsText(result));
      return result;
    });
  },
});

/** Pure: "$0.003" from atomic units of a 6-decimal USD stablecoin (all known assets are). */
export function usdFromAtomic(atomic: bigint): string {
  return `$${(Number(atomic) / 1e6).toFixed(6).replace(/0+$/, "").replace(/\.$/, ".00")}`;
}

export const earningsCommand = defineCommand({
  meta: { name: "earnings", description: "Settled payments from the ledger (one API, or all of yours)" },
  args: {
    name: { type: "positional", required: false, description: "API name (default: all your APIs)" },
    limit: { type: "string", description: "Payments to list per API (1-1000)", default: "10" },
    ...jsonArg,
  },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const api = PlatformApi.fromEnv();
      const limit = Number(args.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw usageError(`--limit must be 1-1000, got '${args.limit}'`, "invalid_limit");
      }
      const slugs = args.name ? [checkSlug(args.name)] : (await api.listTenants()).tenants.map((t) => t.slug);
      const apis = await Promise.all(slugs.map((s) => api.earnings(s, limit)));
      const totalAtomic = apis.reduce((sum, a) => sum + BigInt(a.totals.amountAtomic), 0n);
      const payments = apis.reduce((n, a) => n + a.totals.payments, 0);
      const totalUsd = usdFromAtomic(totalAtomic);
      const rows = apis.map((a) => [a.slug, String(a.totals.payments), a.totals.amountUsd]);
      ui.print(table([["API", "PAYMENTS", "EARNED"], ...rows, ["total", String(payments), totalUsd]]));
      for (const p of args.name ? (apis[0]?.items ?? []) : []) {
        const at = new Date(p.settledAt).toISOString();
        const receipt = p.receipt ? "  signed receipt" : "";
        ui.print(`  ${at}  ${p.amountAtomic} from ${p.payer}  tx ${p.transaction ?? "unknown"}${receipt}`);
      }
      return { totals: { payments, amountAtomic: totalAtomic.toString(), amountUsd: totalUsd }, apis };
    });
  },
});

const BOARD_HEADER = ["RANK", "API", "DIR", "SCORE", "CALLS", "REVENUE", "PAYERS", "PRICE"];

function boardRow(e: LeaderboardEntry): string[] {
  const rank = e.rank === null ? "new" : String(e.rank);
  const m = e.metrics;
  return [
    rank,
    e.slug,
    e.directory,
    String(e.score),
    String(m.calls),
    m.revenueUsd,
    String(m.payers),
    e.paid ? e.price.usd : "free",
  ];
}

export const leaderboardCommand = defineCommand({
  meta: { name: "leaderboard", description: "The public trending ranking" },
  args: {
    window: { type: "string", description: "today | week | overall", default: "week" },
    top: { type: "string", description: "How many (1-100)", default: "20" },
    directory: { type: "string", description: "Only this directory" },
    q: { type: "string", description: "Search text" },
    ...jsonArg,
  },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const window = windowArg(args.window);
      const filters = { ...(args.directory ? { directory: args.directory } : {}), ...(args.q ? { q: args.q } : {}) };
      const query = { window, top: args.top, ...filters };
      const body = await PlatformApi.fromEnv().leaderboard(query);
      const rows = [...body.items, ...body.emerging];
      if (!rows.length) ui.info(`Nothing in the ${window} leaderboard yet (as of ${body.asOf ?? "never"})`);
      else ui.print(table([BOARD_HEADER, ...rows.map(boardRow)]));
      return body;
    });
  },
});
