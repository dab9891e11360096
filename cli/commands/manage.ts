// Your APIs: `claw list`, `claw show <name>`, `claw rm <name>`, `claw stats <name>`,
// `claw earnings [name]`, and the public `claw leaderboard`.
import { defineCommand } from "citty";
import { ApiClient } from "../api/client.ts";
import { CliError, usageError } from "../errors.ts";
import { checkSlug } from "../deploy/flags.ts";
import { jsonArg, runCommand, table } from "../ui.ts";

const nameArg = { name: { type: "positional", required: true, description: "API name (slug)" } } as const;

function limitsLine(t: any): string {
  const rule = (r: any) => (r ? `${r.requests}/${r.windowSeconds}s${r.burst ? ` burst ${r.burst}` : ""}` : "–");
  return `rate per caller ${rule(t.rateLimit?.perCaller)}, global ${rule(t.rateLimit?.global)}; quota ${t.usageLimit?.dailyRequests ?? "–"}/day ${t.usageLimit?.monthlyRequests ?? "–"}/month`;
}

export const listCommand = defineCommand({
  meta: { name: "list", description: "List your APIs" },
  args: { ...jsonArg },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const { tenants } = await ApiClient.fromEnv().request("/v1/tenants");
      if (!tenants.length) ui.info("No APIs yet: `claw deploy data.csv` publishes one in seconds");
      else ui.print(table([["NAME", "TYPE", "VERSION", "PRICE", "ENDPOINT"], ...tenants.map((t: any) => [t.slug, t.resourceType, `v${t.version}`, t.priceUsd ? t.price.display : "free", t.endpoints.path])]));
      return { tenants };
    });
  },
});

export const showCommand = defineCommand({
  meta: { name: "show", description: "Show an API's config, endpoints and live stats" },
  args: { ...nameArg, ...jsonArg },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const slug = checkSlug(args.name);
      const body = await ApiClient.fromEnv().request(`/v1/tenants/${slug}`);
      const t = body.tenant;
      ui.print(
        [
          `${t.slug}  (${t.resourceType} v${t.version}, plan ${t.plan}, directory ${t.directory})`,
          t.description ? `  ${t.description}` : "",
          `  endpoint   ${t.endpoints.path}${t.endpoints.hosts.length ? `  hosts ${t.endpoints.hosts.join(", ")}` : ""}`,
          `  price      ${t.priceUsd ? `${t.price.display} per call → ${t.payTo} (${t.network})` : "free"}`,
          `  limits     ${limitsLine(t)}`,
          t.secretNames?.length ? `  secrets    ${t.secretNames.join(", ")}` : "",
          `  today      ${body.stats?.windows?.today?.calls ?? 0} calls, ${body.stats?.windows?.today?.errors ?? 0} errors`,
        ]
          .filter(Boolean)
          .join("\n"),
      );
      return body;
    });
  },
});

export const rmCommand = defineCommand({
  meta: { name: "rm", description: "Delete an API (calls stop at once; the name stays yours)" },
  args: { ...nameArg, ...jsonArg },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const slug = checkSlug(args.name);
      const body = await ApiClient.fromEnv().request(`/v1/tenants/${slug}`, { method: "DELETE" });
      ui.success(`Deleted '${slug}'`);
      return body;
    });
  },
});

export const statsCommand = defineCommand({
  meta: { name: "stats", description: "Calls, revenue, error rate, p95, 402→paid conversion, payers, rank and score breakdown" },
  args: { ...nameArg, window: { type: "string", description: "Leaderboard window: today | week | overall", default: "week" }, ...jsonArg },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const slug = checkSlug(args.name);
      if (!["today", "week", "overall"].includes(args.window)) throw usageError(`--window must be today, week or overall, got '${args.window}'`, "invalid_window");
      const client = ApiClient.fromEnv();
      const [tenant, earnings] = await Promise.all([client.request(`/v1/tenants/${slug}`), client.request(`/v1/tenants/${slug}/earnings`, { query: { limit: 1 } })]);
      let board: any = null;
      try {
        board = (await client.request(`/v1/apis/${slug}`, { auth: false })).api;
      } catch (err) {
        if (!(err instanceof CliError && err.code === "api_not_found")) throw err;
      }
      const meter = tenant.stats?.windows ?? {};
      const w = board?.windows?.[args.window] ?? null;
      const total = meter.total ?? {};
      const calls = total.calls ?? 0;
      const result = {
        slug,
        meter: {
          today: meter.today ?? null,
          month: meter.month ?? null,
          total: meter.total ?? null,
          errorRate: calls > 0 ? (total.errors ?? 0) / calls : null,
          p95LatencyMs: total.p95LatencyMs ?? null,
        },
        revenue: earnings.totals,
        leaderboard: w
          ? {
              window: args.window,
              rank: w.rank,
              status: w.status,
              score: w.score,
              calls: w.metrics.calls,
              revenueUsd: w.metrics.revenueUsd,
              payers: w.metrics.payers,
              effectivePayers: w.breakdown.effectivePayers,
              conversion: w.metrics.challenges > 0 ? Math.min(1, w.metrics.calls / w.metrics.challenges) : null,
              successRate: w.metrics.successRate,
              p95Ms: w.metrics.p95Ms,
              breakdown: w.breakdown,
              metrics: w.metrics,
            }
          : null,
      };
      const pct = (x: number | null) => (x === null ? "–" : `${(x * 100).toFixed(1)}%`);
      const lb = result.leaderboard;
      ui.print(
        [
          `${slug}`,
          `  calls       ${calls} total, ${meter.today?.calls ?? 0} today (${meter.today?.served ?? 0} served, ${meter.today?.refused ?? 0} refused)`,
          `  revenue     ${earnings.totals.amountUsd} from ${earnings.totals.payments} payments (ledger)`,
          `  errors      ${pct(result.meter.errorRate)}   p95 ${result.meter.p95LatencyMs ?? "–"} ms`,
          lb
            ? `  ${args.window.padEnd(10)}  rank ${lb.rank ?? lb.status}, score ${lb.score}; 402→paid ${pct(lb.conversion)}; payers ${lb.payers} (effective ${lb.effectivePayers})`
            : "  leaderboard not in the snapshot yet (the rollup runs every minute)",
          lb ? `  score       D ${lb.breakdown.D} · Q ${lb.breakdown.Q} · C ${lb.breakdown.C} · B ${lb.breakdown.B}` : "",
        ]
          .filter(Boolean)
          .join("\n"),
      );
      return result;
    });
  },
});

export const earningsCommand = defineCommand({
  meta: { name: "earnings", description: "Settled payments from the ledger (one API, or all of yours)" },
  args: {
    name: { type: "positional", required: false, description: "API name (default: all your APIs)" },
    limit: { type: "string", description: "Payments to list per API (1-1000)", default: "10" },
    ...jsonArg,
  },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const client = ApiClient.fromEnv();
      const limit = Number(args.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw usageError(`--limit must be 1-1000, got '${args.limit}'`, "invalid_limit");
      const slugs: string[] = args.name ? [checkSlug(args.name)] : (await client.request("/v1/tenants")).tenants.map((t: any) => t.slug);
      const apis = await Promise.all(slugs.map((s) => client.request(`/v1/tenants/${s}/earnings`, { query: { limit } })));
      // Totals per asset would differ in decimals; all known assets are 6-decimal USD stablecoins.
      const totalAtomic = apis.reduce((sum, a) => sum + BigInt(a.totals.amountAtomic), 0n);
      const payments = apis.reduce((n, a) => n + a.totals.payments, 0);
      const totalUsd = `$${(Number(totalAtomic) / 1e6).toFixed(6).replace(/0+$/, "").replace(/\.$/, ".00")}`;
      ui.print(table([["API", "PAYMENTS", "EARNED"], ...apis.map((a) => [a.slug, String(a.totals.payments), a.totals.amountUsd]), ["total", String(payments), totalUsd]]));
      if (args.name) for (const p of apis[0]?.items ?? []) ui.print(`  ${new Date(p.settledAt).toISOString()}  ${p.amountAtomic} from ${p.payer}  tx ${p.transaction ?? "unknown"}`);
      return { totals: { payments, amountAtomic: totalAtomic.toString(), amountUsd: totalUsd }, apis };
    });
  },
});

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
      if (!["today", "week", "overall"].includes(args.window)) throw usageError(`--window must be today, week or overall, got '${args.window}'`, "invalid_window");
      const body = await ApiClient.fromEnv().request("/v1/leaderboard", { auth: false, query: { window: args.window, top: args.top, directory: args.directory, q: args.q } });
      const rows = [...body.items, ...body.emerging];
      if (!rows.length) ui.info(`Nothing in the ${args.window} leaderboard yet (as of ${body.asOf ?? "never"})`);
      else
        ui.print(
          table([
            ["RANK", "API", "DIR", "SCORE", "CALLS", "REVENUE", "PAYERS", "PRICE"],
            ...rows.map((e: any) => [e.rank === null ? "new" : String(e.rank), e.slug, e.directory, String(e.score), String(e.metrics.calls), e.metrics.revenueUsd, String(e.metrics.payers), e.paid ? e.price.usd : "free"]),
          ]),
        );
      return body;
    });
  },
});
