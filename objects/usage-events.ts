// Usage records (what the dispatcher reports about a finished call) → usage events (what the
// Leaderboard ingests, DESIGN §7). Pure. The one rule that matters for ranking lives here: only
// settled paid calls and served calls of free APIs are countable; challenges, refusals, replays
// and failures are recorded for metrics but never rank.
import { isCountable, OUTCOME_TRAITS, type Outcome } from "./shared/outcomes.ts";
import type { UsageEvent } from "./usage-event.ts";

export interface EventContext {
  apiId: string;
  owner: string;
  directory: string;
  network: string;
  env: "prod" | "test";
  /** The API's price at the time of the call, atomic units ("0" = free API). */
  priceAtomic: string;
}

export interface CallOutcome {
  requestId: string;
  ts: number;
  caller: string;
  status: number;
  latencyMs: number;
  lifecycle: Outcome;
  /** Settled amount for payment_settled; ignored otherwise. */
  billedAtomic?: string;
}

export function usageEventFor(outcome: CallOutcome, context: EventContext): UsageEvent {
  const billable = OUTCOME_TRAITS[outcome.lifecycle].billable;
  return {
    requestId: outcome.requestId,
    ts: Math.max(0, Math.trunc(outcome.ts)),
    apiId: context.apiId,
    owner: context.owner,
    directory: context.directory,
    caller: outcome.caller.toLowerCase(),
    status: Math.min(599, Math.max(100, Math.trunc(outcome.status))),
    latencyMs: Math.max(0, outcome.latencyMs),
    priceAtomic: context.priceAtomic,
    billedAtomic: billable ? (outcome.billedAtomic ?? context.priceAtomic) : "0",
    lifecycle: outcome.lifecycle,
    countable: isCountable(outcome.lifecycle, context.priceAtomic),
    billable,
    network: context.network,
    env: context.env,
  };
}
