// Your APIs: `claw list`, `claw show <name>`, `claw rm <name>`. Stats, earnings and the
// leaderboard: cli/commands/stats.ts.
import { defineCommand } from "citty";
import { PlatformApi } from "../api/platform.ts";
import type { TenantDetail, TenantView } from "../api/types.ts";
import { checkSlug } from "../deploy/flags.ts";
import { fetchReadiness, readinessText } from "../deploy/readiness.ts";
import { jsonArg, plural, runCommand, table } from "../core/ui.ts";

export const nameArg = { name: { type: "positional", required: true, description: "API name (slug)" } } as const;

type Rule = NonNullable<TenantView["rateLimit"]>["perCaller"];

function limitsLine(t: TenantView): string {
  const rule = (r: Rule) => (r ? `${r.requests}/${r.windowSeconds}s${r.burst ? ` burst ${r.burst}` : ""}` : "–");
  const quota = `${t.usageLimit?.dailyRequests ?? "–"}/day ${t.usageLimit?.monthlyRequests ?? "–"}/month`;
  return `rate per caller ${rule(t.rateLimit?.perCaller)}, global ${rule(t.rateLimit?.global)}; quota ${quota}`;
}

/** "eip155:84532, asset USDC 0x036C… (6 decimals)": what a payer must hold to pay this API. */
export function paymentLine(t: TenantView): string {
  const asset = t.price.asset;
  const what = asset ? `${asset.name} v${asset.version} ${asset.address} (${asset.decimals} decimals)` : "none known";
  return `${t.network}, asset ${what}`;
}

function priceLine(t: TenantView): string {
  if (t.priceUsd) return `${t.price.display} per call → ${t.payTo}`;
  return Object.keys(t.prices ?? {}).length ? `free by default → ${t.payTo ?? "–"}` : "free";
}

/** One line per priced operation, under the default price line. */
function priceTable(t: TenantView): string[] {
  const entries = Object.entries(t.prices ?? {});
  const width = Math.max(0, ...entries.map(([op]) => op.length));
  const text = (p: (typeof entries)[number][1]) =>
    typeof p === "object" ? `up to $${p.upto} per call, usage-priced` : p > 0 ? `$${p} per call` : "free";
  return entries.map(([op, price]) => `             ${op.padEnd(width)}  ${text(price)}`);
}

export function showText(body: TenantDetail): string {
  const t = body.tenant;
  const today = body.stats?.windows.today;
  const hosts = t.endpoints.hosts.length ? `  hosts ${t.endpoints.hosts.join(", ")}` : "";
  return [
    `${t.slug}  (${t.resourceType} v${t.version}, plan ${t.plan}, directory ${t.directory})`,
    t.description ? `  ${t.description}` : "",
    `  endpoint   ${t.endpoints.path}${hosts}`,
    `  price      ${priceLine(t)}`,
    ...priceTable(t),
    `  payment    ${paymentLine(t)}`,
    `  limits     ${limitsLine(t)}`,
    t.secretNames?.length ? `  secrets    ${t.secretNames.join(", ")}` : "",
    `  today      ${plural(today?.calls ?? 0, "call")}, ${plural(today?.errors ?? 0, "error")}`,
  ]
    .filter(Boolean)
    .join("\n");
}

export const listCommand = defineCommand({
  meta: { name: "list", description: "List your APIs" },
  args: { ...jsonArg },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const { tenants } = await PlatformApi.fromEnv().listTenants();
      if (!tenants.length) ui.info("No APIs yet: `claw deploy data.csv` publishes one in seconds");
      else {
        const price = (t: TenantView) => (t.priceUsd ? t.price.display : "free");
        const rows = tenants.map((t) => [t.slug, t.resourceType, `v${t.version}`, price(t), t.endpoints.path]);
        ui.print(table([["NAME", "TYPE", "VERSION", "PRICE", "ENDPOINT"], ...rows]));
      }
      return { tenants };
    });
  },
});

export const showCommand = defineCommand({
  meta: {
    name: "show",
    description: "Show an API's config, payment network and asset, endpoints, live stats and discovery checklist",
  },
  args: { ...nameArg, ...jsonArg },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const api = PlatformApi.fromEnv();
      const slug = checkSlug(args.name);
      const body = await api.getTenant(slug);
      const discovery = await fetchReadiness(api, slug);
      ui.print(discovery ? `${showText(body)}\n${readinessText(discovery)}` : showText(body));
      return { ...body, discovery };
    });
  },
});

export const rmCommand = defineCommand({
  meta: { name: "rm", description: "Delete an API (calls stop at once; the name stays yours)" },
  args: { ...nameArg, ...jsonArg },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const slug = checkSlug(args.name);
      const body = await PlatformApi.fromEnv().deleteTenant(slug);
      ui.success(`Deleted '${slug}'`);
      return body;
    });
  },
});
