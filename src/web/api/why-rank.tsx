/** @jsxImportSource hono/jsx */
// "Why this rank": the four factors of Score = D · Q · C · B with their inputs in plain words,
// and the self-dealt calls that were left out (objects/scoring.ts has the formula).
import type { ApiWindowDetail } from "../../../objects/leaderboard/snapshot-types.ts";
import { SCORING } from "../../../objects/leaderboard/scoring.ts";
import { formatFactor, formatInt, formatMs, formatPercent, plural } from "../format.ts";

export function WhyThisRank(props: { detail: ApiWindowDetail; windowLabel: string }) {
  const { breakdown: b, metrics } = props.detail;
  const status =
    props.detail.status === "ranked"
      ? `Ranked #${props.detail.rank} ${props.windowLabel.toLowerCase()} with a score of ${formatFactor(b.score)}.`
      : `Emerging, not ranked yet: it needs ${b.minWeightedPayers} weighted payers and a score above 0; ` +
        `it has ${formatFactor(b.weightedPayers)} weighted payers.`;
  return (
    <section aria-labelledby="why-h" id="why">
      <h2 id="why-h">Why this rank</h2>
      <p id="why-status">
        {status} Score = D × Q × C × B = {formatFactor(b.D)} × {formatFactor(b.Q)} × {formatFactor(b.C)} ×{" "}
        {formatFactor(b.B)}.
      </p>
      <div class="factors">
        <div class="panel factor" id="factor-d">
          <h3>D · demand</h3>
          <p class="value">{formatFactor(b.D)}</p>
          <p class="small">
            {formatInt(b.payers.counted)} payers made {formatInt(b.successes)} counted calls. Each payer adds log2(1 +
            its calls), so many payers beat many calls from one. Weighted payers: {formatFactor(b.weightedPayers)}:{" "}
            {formatInt(b.payers.singleCreator)} paid only this creator and {formatInt(b.payers.new)} were first seen in
            the last 24 h (each halves that payer's weight).
          </p>
        </div>
        <div class="panel factor" id="factor-q">
          <h3>Q · quality</h3>
          <p class="value">{formatFactor(b.Q)}</p>
          <p class="small">
            {formatInt(b.successes)} of {formatInt(b.attempts)} attempts succeeded; the cautious (Wilson 95 %) estimate
            of that is {formatPercent(b.wilson)}. p95 latency {formatMs(b.p95Ms)} gives a latency factor of{" "}
            {formatFactor(b.latencyFactor)} (1 up to {formatMs(SCORING.latency.thresholdMs)}, never below{" "}
            {SCORING.latency.floor}).
          </p>
        </div>
        <div class="panel factor" id="factor-c">
          <h3>C · concentration</h3>
          <p class="value">{formatFactor(b.C)}</p>
          <p class="small">
            The biggest payer made {formatPercent(b.topPayerShare)} of the calls; above{" "}
            {formatPercent(SCORING.concentration.threshold, 0)} the score is cut, by half at worst. Effective payers (as
            if equal): {formatFactor(b.effectivePayers)}.
          </p>
        </div>
        <div class="panel factor" id="factor-b">
          <h3>B · burst</h3>
          <p class="value">{formatFactor(b.B)}</p>
          <p class="small">
            The busiest hour held {formatPercent(b.peakHourShare)} of the calls; above{" "}
            {formatPercent(SCORING.burst.threshold, 0)} the score is cut, by half at worst.
          </p>
        </div>
      </div>
      <p class="notice" id="self-dealt">
        {metrics.selfDealtCalls > 0
          ? `${formatInt(metrics.selfDealtCalls)} self-dealt calls ` +
            `(from ${plural(b.payers.linked, "wallet")} linked to the creator) ` +
            "are excluded from calls, revenue, payers and every factor."
          : "No self-dealt calls: none of the callers is a wallet linked to the creator."}
      </p>
    </section>
  );
}
