// What one usage event means for the leaderboard, and how a batch of (already deduped) events, or
// the rows of an aggregated usage batch, fold into per-hour aggregates (docs/ARCHITECTURE.md §7).
// Both go through one aggregator (aggregateFacts), so they cannot disagree. Pure: ingest.ts and
// batch-ingest.ts only mark the challenges already counted (challenge-keys.ts) and write what
// this returns.
//
// Classes (the lifecycles and the kind of each come from objects/shared/outcomes.ts):
//   countable  `countable` is true AND the lifecycle is payment_settled or served. The flag alone
//              is not trusted: a producer bug that marks a challenge, refusal or replay countable
//              still never ranks (ARCHITECTURE §7: those never count).
//   failure    tenant_error, settlement_failed: an attempt the API (or its settlement) failed.
//   challenge  payment_challenged (a 402 without payment). The funnel counts challenged requests,
//              not 402s: a fact that carries a request fingerprint adds `distinct` (set by
//              challenge-keys.ts, once per API, hour, caller and request), so a client that repeats
//              its unpaid request, or a bot hammering one URL, cannot inflate it. Without a
//              fingerprint (an older producer) every 402 counts, as before.
//   refusal    payment_invalid, rate_limited, quota_exceeded, spend_cap_exceeded.
//   replay     payment_replayed (the stored response of a payment already counted once).
// Billed money is counted only for billable payment_settled events. Latency is recorded for
// attempts (countable + failure): refusals and challenges never reached the tenant.
import { emptyHist, latencyBucket } from "../shared/histogram.ts";
import { addAtomic } from "../shared/money.ts";
import { OUTCOME_TRAITS, type Outcome, type Transport } from "../shared/outcomes.ts";
import type { UsageBatch } from "../shared/usage-batch.ts";
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
  return classifyOutcome(e.lifecycle, e.countable, e.billable, e.billedAtomic, e.status >= 500);
}

/** The rule behind classifyEvent, for one event or an aggregated row of like events. */
export function classifyOutcome(
  lifecycle: Outcome,
  countable: boolean,
  billable: boolean,
  billedAtomic: string,
  error: boolean,
): EventClass {
  const rank = OUTCOME_TRAITS[lifecycle].rank;
  // The countable flag is required as well as the outcome: neither alone is trusted.
  const kind: EventKind = rank === "countable" ? (countable ? "countable" : "other") : rank;
  const billed = billable && lifecycle === "payment_settled" ? billedAtomic.replace(/^0+(?=\d)/, "") : "0";
  return { kind, billed, error };
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

/** Per (api, hour, transport): events and countable calls by how they arrived (docs/ARCHITECTURE.md §12). */
export interface ApiTransportDelta {
  apiId: string;
  hour: number;
  transport: Transport;
  events: number;
  countable: number;
}

export interface BatchAggregates {
  apiHours: ApiHourDelta[];
  transports: ApiTransportDelta[];
  payerHours: PayerHourDelta[];
  payerTotals: PayerTotalDelta[];
  apis: ApiMetaDelta[];
}

const SEP = "\u0000";

/**
 * `calls` calls of one API, one caller and one hour that classify alike (one event, or one row
 * of an aggregated batch): what the aggregator adds. `billed` is their total.
 */
export interface UsageFact {
  apiId: string;
  owner: string;
  directory: string;
  hour: number;
  caller: string;
  class: EventClass;
  latencyBucket: number;
  calls: number;
  transport: Transport;
  /** Earliest and latest call time of the fact (equal for one event). */
  firstTs: number;
  lastTs: number;
  /** Challenges only: the fingerprint of the request that was challenged (method, path, query). */
  fingerprint?: string;
  /** Challenges with a fingerprint: distinct challenged requests this fact adds (0 or 1). */
  distinct?: number;
}

export function aggregateBatch(events: readonly UsageEvent[]): BatchAggregates {
  return aggregateFacts(eventFacts(events));
}

/** An aggregated batch's rows (objects/shared/usage-batch.ts) → the same aggregates as its events. */
export function aggregateRows(batch: UsageBatch): BatchAggregates {
  return aggregateFacts(rowFacts(batch));
}

/** One fact per event. */
export function eventFacts(events: readonly UsageEvent[]): UsageFact[] {
  return events.map((e) => {
    const fact: UsageFact = {
      apiId: e.apiId,
      owner: e.owner,
      directory: e.directory,
      hour: hourOf(e.ts),
      caller: e.caller,
      class: classifyEvent(e),
      latencyBucket: latencyBucket(e.latencyMs),
      calls: 1,
      transport: e.transport ?? "http",
      firstTs: e.ts,
      lastTs: e.ts,
    };
    if (e.fingerprint !== undefined && fact.class.kind === "challenge") fact.fingerprint = e.fingerprint;
    return fact;
  });
}

/** One fact per row of an aggregated batch. */
export function rowFacts(batch: UsageBatch): UsageFact[] {
  return batch.rows.map((r) => {
    const fact: UsageFact = {
      apiId: batch.apiId,
      owner: batch.owner,
      directory: batch.directory,
      hour: r.hour,
      caller: r.caller,
      class: classifyOutcome(r.lifecycle, r.countable, r.billable, r.billedAtomic, r.error),
      latencyBucket: r.latencyBucket,
      calls: r.calls,
      transport: r.transport ?? "http",
      firstTs: r.firstTs,
      lastTs: r.lastTs,
    };
    if (r.fingerprint !== undefined && fact.class.kind === "challenge") fact.fingerprint = r.fingerprint;
    return fact;
  });
}

/**
 * Challenged requests a fact adds: `distinct` once challenge-keys.ts has claimed it; before that
 * (pure use), a fingerprinted fact counts once per (API, hour, caller, fingerprint) in `facts`.
 */
function distinctChallenges(facts: readonly UsageFact[]): (f: UsageFact) => number {
  const seen = new Set<string>();
  return (f) => {
    if (f.fingerprint === undefined) return f.calls;
    if (f.distinct !== undefined) return f.distinct;
    const key = [f.apiId, f.hour, normalizeCaller(f.caller), f.fingerprint].join(SEP);
    if (seen.has(key)) return 0;
    seen.add(key);
    return 1;
  };
}

export function aggregateFacts(facts: readonly UsageFact[]): BatchAggregates {
  const challengesOf = distinctChallenges(facts);
  const apiHours = new Map<string, ApiHourDelta>();
  const transports = new Map<string, ApiTransportDelta>();
  const payerHours = new Map<string, PayerHourDelta>();
  const payerTotals = new Map<string, PayerTotalDelta>();
  const apis = new Map<string, ApiMetaDelta>();
  for (const f of facts) {
    const c = f.class;
    const hour = f.hour;
    const n = f.calls;
    const attempt = c.kind === "countable" || c.kind === "failure";
    const ah = getOr(apiHours, `${f.apiId}${SEP}${hour}`, () => ({
      apiId: f.apiId,
      hour,
      events: 0,
      countable: 0,
      fails: 0,
      challenges: 0,
      refusals: 0,
      replays: 0,
      errors: 0,
      billed: "0",
      hist: emptyHist(),
    }));
    ah.events += n;
    if (c.kind === "countable") ah.countable += n;
    if (c.kind === "failure") ah.fails += n;
    if (c.kind === "challenge") ah.challenges += challengesOf(f);
    if (c.kind === "refusal") ah.refusals += n;
    if (c.kind === "replay") ah.replays += n;
    if (c.error) ah.errors += n;
    if (c.billed !== "0") ah.billed = addAtomic(ah.billed, c.billed);
    if (attempt) ah.hist[f.latencyBucket]! += n;
    const at = getOr(transports, `${f.apiId}${SEP}${hour}${SEP}${f.transport}`, () => ({
      apiId: f.apiId,
      hour,
      transport: f.transport,
      events: 0,
      countable: 0,
    }));
    at.events += n;
    if (c.kind === "countable") at.countable += n;

    const meta = apis.get(f.apiId);
    if (!meta || f.lastTs >= meta.ts)
      apis.set(f.apiId, { apiId: f.apiId, owner: f.owner, directory: f.directory, ts: f.lastTs });

    if (!attempt) continue;
    const payer = normalizeCaller(f.caller);
    const ph = getOr(payerHours, `${f.apiId}${SEP}${payer}${SEP}${hour}`, () => ({
      apiId: f.apiId,
      payer,
      hour,
      n: 0,
      fails: 0,
      billed: "0",
      hist: emptyHist(),
    }));
    const pt = getOr(payerTotals, `${f.apiId}${SEP}${payer}`, () => ({
      apiId: f.apiId,
      payer,
      n: 0,
      fails: 0,
      billed: "0",
      firstMs: null as number | null,
    }));
    if (c.kind === "countable") {
      ph.n += n;
      pt.n += n;
      pt.firstMs = pt.firstMs === null ? f.firstTs : Math.min(pt.firstMs, f.firstTs);
    } else {
      ph.fails += n;
      pt.fails += n;
    }
    if (c.billed !== "0") {
      ph.billed = addAtomic(ph.billed, c.billed);
      pt.billed = addAtomic(pt.billed, c.billed);
    }
    ph.hist[f.latencyBucket]! += n;
  }
  return {
    apiHours: [...apiHours.values()],
    transports: [...transports.values()],
    payerHours: [...payerHours.values()],
    payerTotals: [...payerTotals.values()],
    apis: [...apis.values()],
  };
}

function getOr<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}
