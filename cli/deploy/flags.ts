// Deploy flags → TenantConfig input (README "Tenant config"). Every value is checked here, before
// anything is uploaded, so bad input is one clear line and nothing half-deployed.
import { usageError } from "../core/errors.ts";
import { repeated } from "../core/ui.ts";
import { slugProblem, type SlugProblem } from "../../src/config/slug.ts";
import { parsePattern, type PriceEntry } from "../../src/config/prices.ts";

export const deployArgs = {
  name: {
    type: "string",
    description: "API name (slug: 3-40 of a-z, 0-9, '-'); default: from the file name",
    alias: "tenant",
  },
  price: {
    type: "string",
    description:
      "Default price per call in USD, e.g. 0.001 (0 = free); repeatable 'GET /v1/search=0.001' prices one " +
      "operation, 'POST /v1/generate=upto:0.05' makes one usage-priced up to $0.05",
  },
  "pay-to": { type: "string", description: "Wallet (0x…) that receives payments; required when --price > 0" },
  network: { type: "string", description: "CAIP-2 network (default eip155:84532)" },
  asset: {
    type: "string",
    description: "Token as JSON {address,name,version,decimals} (default: USDC on the network)",
  },
  plan: { type: "string", description: "free | pro | business | enterprise" },
  directory: { type: "string", description: "Category in the directory, e.g. geo" },
  description: { type: "string", description: "One-line description for the listing" },
  host: { type: "string", description: "Custom host routed to this API (repeatable)" },
  "rate-limit-caller": { type: "string", description: "Per-caller token bucket, e.g. 100/60s (units s, m, h, d)" },
  "rate-limit-global": { type: "string", description: "Global token bucket, e.g. 10000/1h" },
  "rate-limit-burst": {
    type: "string",
    description: "Bucket capacity for the rate limits (default: the request count)",
  },
  "quota-day": { type: "string", description: "Max calls per UTC day" },
  "quota-month": { type: "string", description: "Max calls per UTC month" },
  "spend-day": { type: "string", description: "Revenue cap per UTC day, USD" },
  "spend-month": { type: "string", description: "Revenue cap per UTC month, USD" },
  "spend-per-payer-day": { type: "string", description: "Max USD one payer may spend per UTC day" },
  secret: { type: "string", description: "Secret NAME to upload; the value is read from $NAME (repeatable)" },
} as const;

const UNIT_SECONDS: Record<string, number> = { s: 1, sec: 1, m: 60, min: 60, h: 3600, d: 86400 };

export interface RateRule {
  requests: number;
  windowSeconds: number;
  burst?: number;
}

/**
 * Every --price: a plain number is the default price, "METHOD /path=USD" one operation's price
 * (the server's own pattern rule, src/config/prices.ts), "METHOD /path=upto:USD" a usage-priced
 * operation with that ceiling. Only what was given.
 */
export function pricesFromFlags(rawArgs: string[]): { priceUsd?: number; prices?: Record<string, PriceEntry> } {
  const out: { priceUsd?: number; prices?: Record<string, PriceEntry> } = {};
  for (const value of repeated(rawArgs, "price")) {
    const at = value.lastIndexOf("=");
    if (at < 0) {
      if (out.priceUsd !== undefined) {
        throw usageError("--price without an operation (the default price) may be given once", "invalid_price");
      }
      out.priceUsd = parseUsd("price", value);
      continue;
    }
    const pattern = parsePattern(value.slice(0, at));
    if (typeof pattern === "string") throw usageError(`--price '${value}': the operation ${pattern}`, "invalid_price");
    const prices = (out.prices ??= {});
    if (prices[pattern.key] !== undefined) throw usageError(`--price: ${pattern.key} is priced twice`, "invalid_price");
    const price = value.slice(at + 1);
    const upto = /^upto:/i.test(price.trim());
    const usd = parseUsd("price", upto ? price.trim().slice(5) : price);
    if (upto && usd <= 0) throw usageError(`--price '${value}': an upto ceiling must be above 0`, "invalid_price");
    prices[pattern.key] = upto ? { upto: usd } : usd;
  }
  return out;
}

/** "100/60s", "100/min", "10000/1h", "5/s" → {requests, windowSeconds}. */
export function parseRate(flag: string, value: string): RateRule {
  const m = /^\s*(\d+)\s*\/\s*(\d+)?\s*(s|sec|m|min|h|d)\s*$/i.exec(value);
  const hint = `--${flag} must look like 100/60s or 10000/1h (requests/window; units s, m, h, d), got '${value}'`;
  if (!m) throw usageError(hint, "invalid_rate_limit");
  const requests = Number(m[1]);
  const windowSeconds = Number(m[2] ?? 1) * UNIT_SECONDS[m[3]!.toLowerCase()]!;
  if (requests < 1 || windowSeconds < 1 || !Number.isSafeInteger(requests))
    throw usageError(hint, "invalid_rate_limit");
  return { requests, windowSeconds };
}

export function parseUsd(flag: string, value: string): number {
  const n = Number(value.replace(/^\$/, ""));
  if (value.trim() === "" || !Number.isFinite(n))
    throw usageError(`--${flag} must be a number of USD, e.g. 0.001, got '${value}'`, "invalid_price");
  if (n < 0) throw usageError(`--${flag} cannot be negative (got ${value}); use 0 for free`, "invalid_price");
  return n;
}

export function parseCount(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw usageError(`--${flag} must be a positive whole number, got '${value}'`, "invalid_number");
  return n;
}

const SLUG_HINT: Record<SlugProblem, string> = {
  too_short: "it is shorter than 3 characters",
  too_long: "it is longer than 40 characters",
  bad_characters: "use a-z, 0-9 and '-' only, no leading, trailing or double dash",
  reserved: "it is a reserved word",
};

/** The server's own slug rule (src/config/slug.ts), so a name the CLI accepts is one the API accepts. */
export function checkSlug(name: string): string {
  const problem = slugProblem(name);
  if (problem)
    throw usageError(
      `invalid name '${name}': ${SLUG_HINT[problem]} (3-40 chars of a-z, 0-9 and '-'); pass --name`,
      "invalid_name",
    );
  return name;
}

/** A slug suggestion from a file name or URL host: "World Cities.csv" → "world-cities". */
export function slugFrom(text: string): string {
  return text
    .toLowerCase()
    .replace(/\.[a-z0-9]+$/, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
}

type Args = Record<string, unknown>;

/** Config fields from the deploy flags; only what was given (a redeploy keeps the rest). */
export function configFromFlags(args: Args, rawArgs: string[]): Record<string, unknown> {
  const s = (k: string) => (typeof args[k] === "string" ? (args[k] as string) : undefined);
  const config: Record<string, unknown> = {};
  Object.assign(config, pricesFromFlags(rawArgs));
  if (s("pay-to") !== undefined) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(s("pay-to")!))
      throw usageError(`--pay-to must be a 0x-prefixed 20-byte address, got '${s("pay-to")}'`, "invalid_address");
    config.payTo = s("pay-to");
  }
  if (s("network") !== undefined) config.network = s("network");
  if (s("asset") !== undefined) {
    try {
      config.asset = JSON.parse(s("asset")!);
    } catch {
      throw usageError(
        `--asset must be JSON like {"address":"0x…","name":"USDC","version":"2","decimals":6}`,
        "invalid_asset",
      );
    }
  }
  if (s("plan") !== undefined) {
    if (!["free", "pro", "business", "enterprise"].includes(s("plan")!))
      throw usageError(`--plan must be free, pro, business or enterprise, got '${s("plan")}'`, "invalid_plan");
    config.plan = s("plan");
  }
  if (s("directory") !== undefined) config.directory = s("directory");
  if (s("description") !== undefined) config.description = s("description");
  const hosts = repeated(rawArgs, "host");
  if (hosts.length) config.hosts = hosts;
  const burst =
    s("rate-limit-burst") !== undefined ? parseCount("rate-limit-burst", s("rate-limit-burst")!) : undefined;
  const rateLimit: Record<string, RateRule> = {};
  if (s("rate-limit-caller") !== undefined)
    rateLimit.perCaller = { ...parseRate("rate-limit-caller", s("rate-limit-caller")!), ...(burst ? { burst } : {}) };
  if (s("rate-limit-global") !== undefined)
    rateLimit.global = { ...parseRate("rate-limit-global", s("rate-limit-global")!), ...(burst ? { burst } : {}) };
  if (burst && !Object.keys(rateLimit).length)
    throw usageError("--rate-limit-burst needs --rate-limit-caller or --rate-limit-global", "invalid_rate_limit");
  if (Object.keys(rateLimit).length) config.rateLimit = rateLimit;
  const usageLimit: Record<string, number> = {};
  if (s("quota-day") !== undefined) usageLimit.dailyRequests = parseCount("quota-day", s("quota-day")!);
  if (s("quota-month") !== undefined) usageLimit.monthlyRequests = parseCount("quota-month", s("quota-month")!);
  if (Object.keys(usageLimit).length) config.usageLimit = usageLimit;
  const spendLimit: Record<string, number> = {};
  if (s("spend-day") !== undefined) spendLimit.dailyUsd = parseUsd("spend-day", s("spend-day")!);
  if (s("spend-month") !== undefined) spendLimit.monthlyUsd = parseUsd("spend-month", s("spend-month")!);
  if (s("spend-per-payer-day") !== undefined)
    spendLimit.perPayerDailyUsd = parseUsd("spend-per-payer-day", s("spend-per-payer-day")!);
  if (Object.keys(spendLimit).length) config.spendLimit = spendLimit;
  return config;
}

/** --secret NAME → {NAME: process.env[NAME]}; a missing variable stops before any upload. */
export function secretsFromFlags(rawArgs: string[], env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const name of repeated(rawArgs, "secret")) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name))
      throw usageError(
        `--secret takes an environment variable NAME (letters, digits, _), got '${name}'`,
        "invalid_secret",
      );
    const value = env[name];
    if (value === undefined || value === "")
      throw usageError(
        `--secret ${name}: $${name} is not set; export it first (the value is uploaded, never stored locally)`,
        "missing_secret",
      );
    secrets[name] = value;
  }
  return secrets;
}
