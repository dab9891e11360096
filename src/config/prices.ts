// Price per operation (docs/ARCHITECTURE.md §5, §6): a tenant's `prices` map "METHOD /path" patterns
// (the per-API description's template syntax, `{name}` for one path segment) to a USD price; every
// other request costs the tenant's `priceUsd`. A price of 0 makes that operation a free call; a
// price `{"upto": USD}` makes it usage-priced: the buyer signs up to that ceiling and the tenant
// reports what the call actually costs (src/payments/charge.ts, x402 `upto` scheme).
// Pure: the schema of the map, and the matcher the dispatcher and the discovery documents share.
import * as v from "valibot";

export const PRICE_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
export const MAX_PRICED_OPERATIONS = 100;
const MAX_PATTERN_LENGTH = 300;
const LITERAL = /^[A-Za-z0-9._~!$&'()*+,;=:@%-]+$/;
const PARAM = /^\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/** One segment of a pattern: a literal matches itself, a param any one segment. */
export type Segment = { literal: string } | { param: string };
export interface PricePattern {
  method: (typeof PRICE_METHODS)[number];
  segments: Segment[];
  /** The normalized key: upper-case method, one space, path without a trailing slash. */
  key: string;
}

/** Parses "GET /v1/records/{id}"; returns a problem sentence for anything else. */
export function parsePattern(raw: string): PricePattern | string {
  if (raw.length > MAX_PATTERN_LENGTH) return `longer than ${MAX_PATTERN_LENGTH} characters`;
  const match = /^([A-Za-z]+) +(\/\S*)$/.exec(raw.trim());
  if (!match) return `must be "METHOD /path", e.g. "GET /v1/search"`;
  const method = match[1]!.toUpperCase();
  const known = (PRICE_METHODS as readonly string[]).includes(method);
  if (!known) return `method must be one of ${PRICE_METHODS.join(", ")}`;
  let path = match[2]!;
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  const parts = path === "/" ? [] : path.slice(1).split("/");
  const segments: Segment[] = [];
  for (const part of parts) {
    if (PARAM.test(part)) segments.push({ param: part.slice(1, -1) });
    else if (LITERAL.test(part)) segments.push({ literal: part });
    else return `path segment "${part.slice(0, 40)}" is neither a literal nor a {param}`;
  }
  return { method: method as PricePattern["method"], segments, key: `${method} ${path}` };
}

/** The same operation however its params are named: "GET /a/{}" for both "GET /a/{x}" and "GET /a/{y}". */
function shapeOf(p: PricePattern): string {
  return `${p.method} /${p.segments.map((s) => ("literal" in s ? s.literal : "{}")).join("/")}`;
}

/** Problems of a raw prices map, each naming its key; empty when the map is valid. */
export function pricesProblems(prices: Record<string, unknown>): { key: string; message: string }[] {
  const problems: { key: string; message: string }[] = [];
  const keys = Object.keys(prices);
  if (keys.length > MAX_PRICED_OPERATIONS) {
    problems.push({ key: "", message: `at most ${MAX_PRICED_OPERATIONS} priced operations` });
  }
  const shapes = new Map<string, string>();
  for (const key of keys) {
    const parsed = parsePattern(key);
    if (typeof parsed === "string") {
      problems.push({ key, message: parsed });
      continue;
    }
    const shape = shapeOf(parsed);
    const twin = shapes.get(shape);
    if (twin !== undefined) problems.push({ key, message: `the same operation as "${twin}"` });
    else shapes.set(shape, key);
  }
  return problems;
}

const usd = v.pipe(
  v.number("a price is a number of USD"),
  v.finite("a price is a finite number"),
  v.minValue(0, "a price may not be negative"),
  v.maxValue(1_000_000, "a price is at most 1000000 USD"),
);

/** A usage-priced operation: the buyer signs up to `upto` USD, the tenant reports the actual charge. */
const uptoPrice = v.strictObject({
  upto: v.pipe(usd, v.minValue(0.000001, "an upto ceiling must be above 0")),
});
export type PriceEntry = number | v.InferOutput<typeof uptoPrice>;
/** How an operation is paid: a fixed price (x402 `exact`) or usage-priced up to a ceiling (`upto`). */
export type PricingMode = "exact" | "upto";

/** The USD of an entry (the ceiling of an upto one) and its mode. */
export function entryPrice(entry: PriceEntry): { usd: number; mode: PricingMode } {
  return typeof entry === "number" ? { usd: entry, mode: "exact" } : { usd: entry.upto, mode: "upto" };
}

/** `prices` as a creator sends it: validated, keys normalized ("get /a/" → "GET /a"). */
export const PricesSchema = v.pipe(
  v.record(v.string(), v.union([usd, uptoPrice], 'a price is a number of USD or {"upto": USD}')),
  v.check(
    (p) => pricesProblems(p).length === 0,
    (issue) => {
      const first = pricesProblems(issue.input as Record<string, unknown>)[0]!;
      return first.key ? `"${first.key.slice(0, 80)}": ${first.message}` : first.message;
    },
  ),
  v.transform((p) =>
    Object.fromEntries(Object.entries(p).map(([k, price]) => [(parsePattern(k) as PricePattern).key, price])),
  ),
);
export type Prices = v.InferOutput<typeof PricesSchema>;

interface Compiled {
  pattern: PricePattern;
  usd: number;
  mode: PricingMode;
  /** "1" per literal, "0" per param: the greater string is the more specific pattern. */
  rank: string;
}

const compiledCache = new WeakMap<Prices, Compiled[]>();

function compile(prices: Prices): Compiled[] {
  let hit = compiledCache.get(prices);
  if (!hit) {
    hit = [];
    for (const [key, price] of Object.entries(prices)) {
      const pattern = parsePattern(key);
      if (typeof pattern === "string") continue; // stored maps are validated; never price by a bad key
      const rank = pattern.segments.map((s) => ("literal" in s ? "1" : "0")).join("");
      hit.push({ pattern, ...entryPrice(price), rank });
    }
    compiledCache.set(prices, hit);
  }
  return hit;
}

function splitPath(path: string): string[] {
  const clean = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  return clean === "/" || clean === "" ? [] : clean.replace(/^\//, "").split("/");
}

/**
 * The pattern that prices a request, or null for the default price. A description's own template
 * can be priced too: its `{x}` segments match only param segments (a literal never has braces).
 */
export function matchPattern(prices: Prices, method: string, path: string): Compiled | null {
  const compiled = compile(prices);
  // Most tenants price nothing per operation: every call asks, so that answer costs no split.
  if (compiled.length === 0) return null;
  const m = method.toUpperCase() === "HEAD" ? "GET" : method.toUpperCase();
  const parts = splitPath(path);
  let best: Compiled | null = null;
  for (const c of compiled) {
    if (c.pattern.method !== m || c.pattern.segments.length !== parts.length) continue;
    const fits = c.pattern.segments.every((s, i) => {
      const part = parts[i]!;
      return "param" in s ? part.length > 0 : part === s.literal;
    });
    // Most specific wins: at the first segment where two matches differ, the literal one.
    if (fits && (!best || c.rank > best.rank)) best = c;
  }
  return best;
}

/** The USD price of `method path` for a tenant: its matching operation's price, else `defaultUsd`. */
export function priceOf(
  prices: Prices | undefined,
  defaultUsd: number,
  method: string,
  path: string,
): { usd: number; pattern: string | null } {
  const { usd, pattern } = operationPrice(prices, defaultUsd, method, path);
  return { usd, pattern };
}

/** priceOf with the pricing mode: for a usage-priced (`upto`) operation `usd` is its ceiling. */
export function operationPrice(
  prices: Prices | undefined,
  defaultUsd: number,
  method: string,
  path: string,
): { usd: number; pattern: string | null; mode: PricingMode } {
  const hit = prices ? matchPattern(prices, method, path) : null;
  return hit
    ? { usd: hit.usd, pattern: hit.pattern.key, mode: hit.mode }
    : { usd: defaultUsd, pattern: null, mode: "exact" };
}

/** Whether any call of this tenant can cost money (the default or any priced operation). */
export function anyPaid(prices: Prices | undefined, defaultUsd: number): boolean {
  return defaultUsd > 0 || Object.values(prices ?? {}).some((p) => entryPrice(p).usd > 0);
}
