// What one usage event means for the leaderboard, and how a batch of (already deduped) events
// folds into per-hour aggregates (docs/ARCHITECTURE.md §7). Pure: ingest.ts only writes what this
// returns.
//
// Classes (the lifecycles and the kind of each come from objects/shared/outcomes.ts):
//   countable  `countable` is true AND the lifecycle is payment_settled or served. The flag alone
//              is not trusted: a producer bug that marks a challenge, refusal or replay countable
//              still never ranks (ARCHITECTURE §7: those never count).
//   failure    tenant_error, settlement_failed: an attempt the API (or its settlement) failed.
//   challenge  payment_challenged (a 402 without payment).
//   refusal    payment_invalid, rate_limited, quota_exceeded, spend_cap_exceeded.
//   replay     payment_replayed (the stored response of a payment already counted once).
// Billed money is counted only for billable payment_settled events. Latency is recorded for
// attempts (countable + failure): refusals and challenges never reached the tenant.
import { emptyHist, latencyBucket, LATENCY_BUCKETS } from "../shared/histogram.ts";
import { addAtomic } from "../shared/money.ts";
import { OUTCOME_TRAITS } from "../shared/outcomes.ts";
import type { UsageEvent } from "../shared/usage-event.ts";
import { hourOf } from "./windows.ts";

export type EventKind = "countable" | "failure" | "challenge" | "refusal" | "replay" | "other";

export interface EventClass {
  kind: EventKind;
  billed: string;
  /** Status ≥ 500: shown as errors in the metrics (independent of the kind). */
  error: boolean;
}

/** Wallet addresses compare lowercase (the contract says they arrive so; this makes it true). */
export function normalizeCaller(caller: string): string {
  return /^0x[0-9a-fA-F]{40}$/.test(caller) ? caller.toLowerCase() : caller;
}

export function classifyEvent(e: UsageEvent): EventClass {
  const rank = OUTCOME_TRAITS[e.lifecycle].rank;
  // The countable flag is required as well as the outcome: neither alone is trusted.
  const kind: EventKind = rank === "countable" ? (e.countable ? "countable" : "other") : rank;
  const billed = e.billable && e.lifecycle === "payment_settled" ? e.billedAtomic.replace(/^0+(?=\d)/, "") : "0";
  return { kind, billed, error: e.status >= 500 };
}

/** What the Leaderboard counts per API, over an hour or over a window. */
export interface ApiCounters {
  apiId: string;
  events: number;
  countable: number;
  fails: number;
  challenges: number;
  refusals: number;
  replays: number;
  errors: number;
  billed: string;
  /** Latency histogram of all attempts. */
  hist: number[];
}

/** Per (api, hour): everything, for the API's metrics. */
export interface ApiHourDelta extends ApiCounters {
  hour: number;
}

/** Per (api, payer, hour): attempts only (challenges and refusals carry no payer signal). */
export interface PayerHourDelta {
  apiId: string;
  payer: string;
  hour: number;
  n: number;
  fails: number;
  billed: string;
  hist: number[];
}

/** Per (api, payer), all time. firstMs: earliest countable call, null if none in this batch. */
export interface PayerTotalDelta {
  apiId: string;
  payer: string;
  n: number;
  fails: number;
  billed: string;
  firstMs: number | null;
}

/** Latest owner/directory an API reported (by event time). */
export interface ApiMetaDelta {
  apiId: string;
  owner: string;
  directory: string;
  ts: number;
}

export interface BatchAggregates {
  apiHours: ApiHourDelta[];
  payerHours: PayerHourDelta[];
  payerTotals: PayerTotalDelta[];
  apis: ApiMetaDelta[];
}

const SEP = "\u0000";

export function aggregateBatch(events: readonly UsageEvent[]): BatchAggregates {
  const apiHours = new Map<string, ApiHourDelta>();
  const payerHours = new Map<string, PayerHourDelta>();
  const payerTotals = new Map<string, PayerTotalDelta>();
  const apis = new Map<string, ApiMetaDelta>();
  for (const e of events) {
    const c = classifyEvent(e);
    const hour = hourOf(e.ts);
    const attempt = c.kind === "countable" || c.kind === "failure";
    const bucket = attempt ? latencyBucket(e.latencyMs) : -1;

    const ah = getOr(apiHours, `${e.apiId}${SEP}${hour}`, () => ({
      apiId: e.apiId, hour, events: 0, countable: 0, fails: 0, challenges: 0, refusals: 0, replays: 0, errors: 0, billed: "0", hist: emptyHist(),
    }));
    ah.events += 1;
    if (c.kind === "countable") ah.countable += 1;
    if (c.kind === "failure") ah.fails += 1;
    if (c.kind === "challenge") ah.challenges += 1;
    if (c.kind === "refusal") ah.refusals += 1;
    if (c.kind === "replay") ah.replays += 1;
    if (c.error) ah.errors += 1;
    if (c.billed !== "0") ah.billed = addAtomic(ah.billed, c.billed);
    if (bucket >= 0) ah.hist[bucket]! += 1;

    const meta = apis.get(e.apiId);
    if (!meta || e.ts >= meta.ts) apis.set(e.apiId, { apiId: e.apiId, owner: e.owner, directory: e.directory, ts: e.ts });

    if (!attempt) continue;
    const payer = normalizeCaller(e.caller);
    const ph = getOr(payerHours, `${e.apiId}${SEP}${payer}${SEP}${hour}`, () => ({
      apiId: e.apiId, payer, hour, n: 0, fails: 0, billed: "0", hist: emptyHist(),
    }));
    const pt = getOr(payerTotals, `${e.apiId}${SEP}${payer}`, () => ({ apiId: e.apiId, payer, n: 0, fails: 0, billed: "0", firstMs: null as number | null }));
    if (c.kind === "countable") {
      ph.n += 1;
      pt.n += 1;
      pt.firstMs = pt.firstMs === null ? e.ts : Math.min(pt.firstMs, e.ts);
    } else {
      ph.fails += 1;
      pt.fails += 1;
    }
    if (c.billed !== "0") {
      ph.billed = addAtomic(ph.billed, c.billed);
      pt.billed = addAtomic(pt.billed, c.billed);
    }
    ph.hist[bucket]! += 1;
  }
  return { apiHours: [...apiHours.values()], payerHours: [...payerHours.values()], payerTotals: [...payerTotals.values()], apis: [...apis.values()] };
}

function getOr<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}
