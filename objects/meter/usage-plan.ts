// What an aggregated usage batch (usage-fold.ts) changes in the TenantMeter's stats and what it
// forwards to the Leaderboard (docs/ARCHITECTURE.md §4, §7). Pure: usage-aggregate.ts writes what
// this returns. The rules are those of one call at a time (usage-stats.ts `record`), applied to
// a row's `calls` at once:
//   calls = outcomes whose trait is `call`; served = served | payment_settled; errors = a 5xx or
//   tenant_error; refused = `refusedStat` outcomes; the latency histogram covers admitted calls
//   only; distinct callers per UTC day and ever count call outcomes only.
// Forwarded rows: every row but payment_settled (its event comes from the settlement, in the
// commit's transaction), with the countable flag and the payer-normalised caller the per-call
// event would carry (objects/shared/usage-event.ts).
import { emptyHist } from "../shared/histogram.ts";
import { isCountable, OUTCOME_TRAITS } from "../shared/outcomes.ts";
import { HOUR_MS, utcDayKey } from "../shared/time.ts";
import type { UsageRow } from "../shared/usage-batch.ts";
import { transportOf, type UsageAggregateRow } from "./usage-fold.ts";

export interface HourDelta {
  hour: number;
  calls: number;
  served: number;
  errors: number;
  refused: number;
  hist: number[];
}

export interface CallerDay {
  day: string;
  caller: string;
  /** Earliest call of the caller in the batch (ms): first_seen_ms of a new caller. */
  firstTs: number;
  label: string | null;
  labelTs: number;
}

export interface UsagePlan {
  hours: HourDelta[];
  /** [hour, transport, calls] of call outcomes. */
  transports: [number, string, number][];
  callerDays: CallerDay[];
  calls: number;
}

const SEP = "\u0000";

function getOr<V>(map: Map<string, V>, key: string, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = make()));
  return value;
}

export function planUsage(rows: readonly UsageAggregateRow[]): UsagePlan {
  const hours = new Map<string, HourDelta>();
  const transports = new Map<string, [number, string, number]>();
  const callers = new Map<string, CallerDay>();
  let calls = 0;
  for (const r of rows) {
    calls += r.calls;
    const traits = OUTCOME_TRAITS[r.outcome];
    if (!traits.call) continue;
    const h = getOr(hours, String(r.hour), () => ({
      hour: r.hour,
      calls: 0,
      served: 0,
      errors: 0,
      refused: 0,
      hist: emptyHist(),
    }));
    h.calls += r.calls;
    if (r.outcome === "served" || r.outcome === "payment_settled") h.served += r.calls;
    if (r.statusClass === 5 || r.outcome === "tenant_error") h.errors += r.calls;
    if (traits.refusedStat) h.refused += r.calls;
    // Refused calls never reached the tenant: their latency would only drag the percentiles down.
    else h.hist[r.latencyBucket]! += r.calls;
    const transport = transportOf(r.transport);
    const t = getOr(transports, `${r.hour}${SEP}${transport}`, (): [number, string, number] => [r.hour, transport, 0]);
    t[2] += r.calls;
    const day = utcDayKey(r.hour * HOUR_MS);
    const cd = getOr(callers, `${day}${SEP}${r.caller}`, () => ({
      day,
      caller: r.caller,
      firstTs: r.firstTs,
      label: null as string | null,
      labelTs: Infinity,
    }));
    cd.firstTs = Math.min(cd.firstTs, r.firstTs);
    if (r.label !== undefined && r.labelTs !== undefined && r.labelTs < cd.labelTs) {
      cd.label = r.label;
      cd.labelTs = r.labelTs;
    }
  }
  return { hours: [...hours.values()], transports: [...transports.values()], callerDays: [...callers.values()], calls };
}

/** The rows the Leaderboard gets for a batch (usage-batch.ts), for an API priced `priceAtomic`. */
export function leaderboardRows(rows: readonly UsageAggregateRow[], priceAtomic: string): UsageRow[] {
  const out: UsageRow[] = [];
  for (const r of rows) {
    if (r.outcome === "payment_settled") continue;
    const row: UsageRow = {
      hour: r.hour,
      caller: r.caller.toLowerCase(),
      lifecycle: r.outcome,
      countable: isCountable(r.outcome, priceAtomic),
      billable: false,
      error: r.statusClass === 5,
      latencyBucket: r.latencyBucket,
      calls: r.calls,
      billedAtomic: "0",
      firstTs: r.firstTs,
      lastTs: r.lastTs,
      transport: transportOf(r.transport),
    };
    if (r.fingerprint !== undefined && r.outcome === "payment_challenged") row.fingerprint = r.fingerprint;
    out.push(row);
  }
  return out;
}
