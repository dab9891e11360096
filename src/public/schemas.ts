// Response bodies of the public API as valibot schemas (docs/ARCHITECTURE.md §8): /openapi.json
// carries them as components (openapi.ts converts them with @valibot/to-json-schema) and the
// tests parse real responses with them. Objects are strict (additionalProperties: false), so a
// field added to a response without documenting it fails those tests.
import * as v from "valibot";
import { WINDOWS, type WindowName } from "../../objects/leaderboard/windows.ts";
import { AddressSchema, AssetSchema } from "../config/tenant-config.ts";

const str = v.string();
const int = v.pipe(v.number(), v.integer(), v.minValue(0));
const num = v.number();
const bool = v.boolean();
const uri = v.pipe(v.string(), v.url());
const dateTime = v.pipe(v.string(), v.isoTimestamp());
const strings = v.array(str);
const described = <T extends v.GenericSchema>(schema: T, text: string) => v.pipe(schema, v.description(text));
const atomic = described(
  v.pipe(v.string(), v.regex(/^[0-9]+$/)),
  "Integer amount in the asset's atomic units (USDC: 6 decimals).",
);
const usd = described(
  v.pipe(v.string(), v.regex(/^\$[0-9]+\.[0-9]{2,}$/)),
  "Display string; a non-zero amount never shows as $0.00.",
);
const rankOrNull = v.nullable(v.pipe(v.number(), v.integer()));
const windowName = v.picklist(WINDOWS);
const status = v.picklist(["ranked", "emerging"]);
const asOf = described(v.nullable(dateTime), "When the snapshot was computed (null before the first rollup).");
const perWindow = <T extends v.GenericSchema>(schema: T) =>
  v.strictObject(Object.fromEntries(WINDOWS.map((w) => [w, schema])) as Record<WindowName, T>);

export const ErrorBody = v.strictObject({
  error: v.strictObject({ code: str, message: str, details: v.optional(v.unknown()) }),
  requestId: str,
});

export const Metrics = described(
  v.strictObject({
    calls: described(
      int,
      "Countable calls (settled paid calls, served free calls) by callers not linked to the creator.",
    ),
    revenueAtomic: atomic,
    revenueUsd: usd,
    payers: described(int, "Distinct callers with countable calls, creator-linked wallets excluded."),
    successRate: described(v.nullable(num), "successes / attempts (null without attempts)."),
    p50Ms: v.nullable(num),
    p95Ms: v.nullable(num),
    events: described(int, "Every ingested event (challenges, refusals and replays included)."),
    errors: described(int, "Events with status ≥ 500."),
    challenges: described(
      int,
      "Challenged requests: 402s without payment, once per (hour, caller, method + path + query).",
    ),
    refusals: described(int, "Invalid payments, rate limits, quotas, spend caps."),
    replays: described(int, "Stored responses replayed for an already settled payment."),
    selfDealtCalls: described(int, "Countable calls by creator-linked wallets: shown, never scored."),
  }),
  "Per-window metrics. Only countable calls by callers not linked to the creator rank.",
);

export const Factors = v.strictObject({ D: num, Q: num, C: num, B: num });

export const Breakdown = described(
  v.strictObject({
    score: num,
    status,
    D: described(num, "Σ_payers w_p · log2(1 + n_p)."),
    Q: described(num, "wilson · latencyFactor."),
    C: described(num, "1 − 0.5 · clamp((topPayerShare − 0.5)/0.5, 0, 1)."),
    B: described(num, "1 − 0.5 · clamp((peakHourShare − 0.25)/0.75, 0, 1)."),
    wilson: described(num, "Wilson lower bound (z = 1.96) of successes / attempts."),
    latencyFactor: described(num, "clamp(1 − (p95Ms − 1000)/8000, 0.5, 1); 1 without latency data."),
    p95Ms: v.nullable(num),
    successes: int,
    attempts: described(int, "successes + tenant errors + failed settlements."),
    topPayerShare: num,
    peakHourShare: num,
    effectivePayers: described(num, "1 / HHI of the payers' call shares."),
    weightedPayers: described(num, "Σ w_p; ranked from minWeightedPayers on."),
    minWeightedPayers: num,
    payers: v.strictObject({ counted: int, linked: int, singleCreator: int, new: int }),
    linkedCalls: int,
  }),
  "Score = D · Q · C · B. w_p = 0 for creator-linked wallets, × 0.5 for payers that only ever paid this creator, " +
    "× 0.5 for payers first seen < 24 h before the window end.",
);

export const Entry = v.strictObject({
  rank: described(
    v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1))),
    "Global rank in the window; null when emerging.",
  ),
  status,
  slug: str,
  directory: str,
  description: str,
  paid: bool,
  price: v.strictObject({ atomic, usd }),
  network: str,
  path: str,
  url: uri,
  detailsUrl: uri,
  score: num,
  factors: Factors,
  metrics: Metrics,
});

export const Leaderboard = v.strictObject({
  window: windowName,
  asOf,
  version: int,
  filters: v.strictObject({ directory: v.nullable(str), q: v.nullable(str) }),
  top: int,
  items: described(v.array(Entry), "Ranked APIs, best first (at most `top`)."),
  emerging: described(v.array(Entry), "APIs below the ranking threshold (at most `top`)."),
  totals: v.strictObject({ ranked: int, emerging: int }),
});

export const PaymentRequirements = v.looseObject({
  scheme: str,
  network: str,
  asset: str,
  amount: atomic,
  payTo: str,
  maxTimeoutSeconds: int,
  extra: v.optional(v.record(v.string(), v.unknown())),
});

export const ApiWindow = v.strictObject({
  rank: rankOrNull,
  status,
  score: num,
  metrics: Metrics,
  breakdown: Breakdown,
});

const price = v.strictObject({ atomic, usd, decimals: int });

export const ApiDetail = v.strictObject({
  asOf,
  version: int,
  api: v.strictObject({
    slug: str,
    directory: str,
    description: str,
    resourceType: str,
    paid: bool,
    price,
    network: str,
    payTo: v.nullable(str),
    path: str,
    hosts: strings,
    accepts: v.array(PaymentRequirements),
    lastUpdated: dateTime,
    windows: perWindow(ApiWindow),
    call: v.strictObject({ url: uri, hosts: strings, payment: v.picklist(["x402", "none"]), price, instructions: str }),
  }),
});

export const Directory = v.strictObject({
  directory: str,
  apis: int,
  rankedApis: int,
  calls: int,
  revenueAtomic: atomic,
  revenueUsd: usd,
  activePayers: int,
  topApis: strings,
});
export const Directories = v.strictObject({ window: windowName, asOf, version: int, items: v.array(Directory) });

export const HeroStats = v.strictObject({
  publishedApis: int,
  directories: int,
  rankedApis: int,
  emergingApis: int,
  activePayers: described(int, "Distinct wallets (not creator-linked) that paid in the window."),
  activeCallers: described(int, "Distinct callers (wallets or hashed IPs of free calls) with countable calls."),
  calls: int,
  revenueAtomic: atomic,
  revenueUsd: usd,
});
export const Stats = v.strictObject({ asOf, version: int, windows: perWindow(HeroStats) });

export const DiscoveryItem = v.strictObject({
  resource: uri,
  type: v.literal("http"),
  x402Version: v.literal(2),
  accepts: v.array(PaymentRequirements),
  lastUpdated: dateTime,
  description: str,
  mimeType: str,
  serviceName: str,
  tags: strings,
  metadata: v.strictObject({ slug: str, directory: str, rank: rankOrNull, status: str, score: num, details: uri }),
  extensions: described(
    v.record(v.string(), v.unknown()),
    "`bazaar`: the x402 discovery listing of the API's first operation (as in its 402).",
  ),
});
export const Discovery = v.strictObject({
  x402Version: v.literal(2),
  items: v.array(DiscoveryItem),
  pagination: v.strictObject({ limit: int, offset: int, total: int }),
});

export const Wallet = v.strictObject({ address: v.pipe(v.string(), v.regex(/^0x[0-9a-f]{40}$/)), createdAt: int });
export const WalletList = v.strictObject({ wallets: v.array(Wallet) });
export const WalletResult = v.strictObject({ wallet: Wallet });
export const WalletInput = v.strictObject({ address: AddressSchema });
export const WalletDeleted = v.strictObject({ address: Wallet.entries.address, deleted: v.literal(true) });

export const RollupResult = v.strictObject({
  version: int,
  changed: bool,
  asOf: dateTime,
  durationMs: int,
  apis: int,
  shards: int,
});

export const Health = v.strictObject({ ok: v.literal(true), service: v.literal("402claw"), time: dateTime });

export const PlatformInfo = v.strictObject({
  service: v.literal("402claw"),
  network: str,
  asset: v.nullable(AssetSchema),
});

/** Every named schema: the components of /openapi.json (a schema used twice is one $ref). */
export const COMPONENTS = {
  Error: ErrorBody,
  Metrics,
  Factors,
  Breakdown,
  Entry,
  Leaderboard,
  PaymentRequirements,
  ApiWindow,
  ApiDetail,
  Directory,
  Directories,
  HeroStats,
  Stats,
  DiscoveryItem,
  Discovery,
  Wallet,
  WalletList,
  WalletResult,
  WalletInput,
  WalletDeleted,
  RollupResult,
  Health,
  PlatformInfo,
} as const;
export type ComponentName = keyof typeof COMPONENTS;
