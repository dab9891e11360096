/** @jsxImportSource hono/jsx */
// Dashboard sections of one API: funnel, traffic (organic vs self-dealt), payers, errors,
// settlements (with their signed receipts), limits. Numbers come in computed; these components only lay them out.
import type { ApiWindowDetail } from "../../../objects/leaderboard/snapshot-types.ts";
import { formatFactor, formatInt, formatPercent, isoMinute, shortId } from "../format.ts";
import type { CodeCount } from "../charts/series.ts";
import type { LedgerView, Settlement } from "./ledger.ts";
import type { LimitRow } from "./limits.ts";

export function Funnel(props: { detail: ApiWindowDetail | undefined }) {
  const m = props.detail?.metrics;
  const b = props.detail?.breakdown;
  if (!m || !b)
    return <p class="notice">No snapshot numbers yet: they appear after the next rollup (about a minute).</p>;
  const settled = m.calls + m.selfDealtCalls;
  const failed = Math.max(0, b.attempts - b.successes);
  const steps = [
    { label: "challenged requests (402s, once per caller, request and hour)", n: m.challenges },
    { label: "refused (invalid payment, limits, caps)", n: m.refusals },
    { label: "failed after payment was verified", n: failed },
    { label: "paid and settled", n: settled },
  ];
  const max = Math.max(1, ...steps.map((s) => s.n));
  return (
    <div id="funnel">
      <ol class="funnel" aria-label={`402 to paid: ${m.challenges} challenges, ${settled} settled`}>
        {steps.map((s, i) => (
          <li>
            <span>{s.label}</span> <strong>{formatInt(s.n)}</strong>
            <svg class="fbar" viewBox="0 0 100 4" preserveAspectRatio="none" aria-hidden="true">
              <rect
                class={i === steps.length - 1 ? "bar" : "bar2"}
                width={Math.max(0.5, (s.n / max) * 100).toFixed(2)}
                height="4"
              />
            </svg>
          </li>
        ))}
      </ol>
      <p class="small">
        Conversion: {m.challenges > 0 ? formatPercent(Math.min(1, settled / m.challenges)) : "–"} of challenges ended in
        a settled payment ({formatInt(m.replays)} replays served from the stored response, not counted).
      </p>
    </div>
  );
}

export function Traffic(props: { detail: ApiWindowDetail | undefined }) {
  const m = props.detail?.metrics;
  if (!m) return null;
  const total = m.calls + m.selfDealtCalls;
  return (
    <dl class="kv" id="traffic">
      <dt>Organic calls</dt>
      <dd id="d-organic">
        {formatInt(m.calls)} ({total > 0 ? formatPercent(m.calls / total) : "–"})
      </dd>
      <dt>Self-dealt calls</dt>
      <dd id="d-self">{formatInt(m.selfDealtCalls)} (from wallets linked to you: excluded from ranking)</dd>
      <dt>Unique payers</dt>
      <dd>{formatInt(m.payers)}</dd>
      <dt>Effective payers</dt>
      <dd id="d-effective">{formatFactor(props.detail?.breakdown.effectivePayers)}</dd>
    </dl>
  );
}

export function Payers(props: { ledger: LedgerView; linked: Set<string> }) {
  if (props.ledger.topPayers.length === 0) return <p class="muted">No settled payments yet.</p>;
  return (
    <section class="scroll" tabindex={0} aria-label="Top payers">
      <table id="payers">
        <thead>
          <tr>
            <th scope="col">Payer</th>
            <th scope="col" class="num wide">
              Payments
            </th>
            <th scope="col" class="num">
              Paid
            </th>
          </tr>
        </thead>
        <tbody>
          {props.ledger.topPayers.map((p) => (
            <tr>
              <td>
                <code title={p.payer}>{shortId(p.payer, 8, 6)}</code>{" "}
                {props.linked.has(p.payer.toLowerCase()) ? <span class="badge bad">self-dealt</span> : null}
              </td>
              <td class="num wide">{formatInt(p.payments)}</td>
              <td class="num">{p.amountUsd}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function Errors(props: { errors: readonly CodeCount[] }) {
  if (props.errors.length === 0) return <p class="muted">No errors or refusals in the newest events.</p>;
  return (
    <table id="errors">
      <thead>
        <tr>
          <th scope="col">Code</th>
          <th scope="col" class="num">
            HTTP
          </th>
          <th scope="col" class="num">
            Count
          </th>
        </tr>
      </thead>
      <tbody>
        {props.errors.map((e) => (
          <tr>
            <td>
              <code>{e.code}</code>
            </td>
            <td class="num">{e.status}</td>
            <td class="num">{formatInt(e.count)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Settlements(props: { ledger: LedgerView; usd: (atomic: string) => string }) {
  if (props.ledger.recent.length === 0) return <p class="muted">No settlements yet.</p>;
  return (
    <section class="scroll" tabindex={0} aria-label="Recent settlements">
      <table id="settlements">
        <thead>
          <tr>
            <th scope="col">Settled</th>
            <th scope="col" class="wide">
              Payer
            </th>
            <th scope="col" class="num">
              Amount
            </th>
            <th scope="col">Transaction</th>
            <th scope="col">Receipt</th>
          </tr>
        </thead>
        <tbody>
          {props.ledger.recent.map((s) => (
            <tr>
              <td>{isoMinute(s.settledAt)}</td>
              <td class="wide">
                <code title={s.payer}>{shortId(s.payer)}</code>
              </td>
              <td class="num">{props.usd(s.amountAtomic)}</td>
              <td>
                {s.transaction ? (
                  <code title={s.transaction} data-tx={s.transaction}>
                    {shortId(s.transaction, 10, 8)}
                  </code>
                ) : (
                  <span class="muted">reconciled, hash unknown</span>
                )}
              </td>
              <td>
                <ReceiptCell receipt={s.receipt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The signed receipt the payer got, readable without JavaScript (a disclosure with its JSON). */
function ReceiptCell(props: { receipt: Settlement["receipt"] }) {
  if (!props.receipt) return <span class="muted">none</span>;
  return (
    <details class="receipt">
      <summary>signed</summary>
      <pre>{JSON.stringify(props.receipt, null, 2)}</pre>
    </details>
  );
}

export function Limits(props: { rows: readonly LimitRow[] }) {
  if (props.rows.length === 0) return <p class="muted">No rate limits, quotas or spend caps set.</p>;
  return (
    <table id="limits">
      <thead>
        <tr>
          <th scope="col">Limit</th>
          <th scope="col">Set to</th>
          <th scope="col">Used</th>
          <th scope="col">How close</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr>
            <td class="name">{r.name}</td>
            <td>{r.limit}</td>
            <td>{r.used}</td>
            <td>
              {r.ratio === null ? (
                "–"
              ) : (
                <meter
                  min={0}
                  max={1}
                  high={0.8}
                  low={0.5}
                  optimum={0}
                  value={r.ratio}
                  aria-label={`${r.name}: ${formatPercent(r.ratio, 0)} used`}
                ></meter>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
