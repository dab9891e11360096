/** @jsxImportSource hono/jsx */
// /dashboard when signed in: the creator's APIs (exact revenue from the ledger), then the chosen
// API's calls, revenue, funnel, traffic, payers, errors, p95, settlements and limits.
import { priceSummary } from "../price-summary.ts";
import { WINDOWS, type WindowName } from "../../../objects/leaderboard/windows.ts";
import { atomicToUsd } from "../../../objects/shared/money.ts";
import { Layout } from "../layout.tsx";
import { formatInt, formatMs, isoMinute } from "../format.ts";
import { WINDOW_LABELS } from "../explore/page.tsx";
import { CallsChart } from "../charts/charts.tsx";
import { decimalsOf, type DashboardData, type SelectedApi } from "./data.ts";
import { Errors, Funnel, Limits, Payers, Settlements, Traffic } from "./sections.tsx";

export function DashboardPage(props: { data: DashboardData; window: WindowName; csrf: string; expiresAt: number }) {
  const { data } = props;
  const slug = data.selected?.config.slug;
  return (
    <Layout title="Creator dashboard" section="dashboard">
      <div class="row">
        <h1>Creator dashboard</h1>
        <form method="post" action="/dashboard/logout">
          <input type="hidden" name="csrf" value={props.csrf} />
          <button type="submit" class="secondary">
            Sign out
          </button>
        </form>
      </div>
      <p class="muted small">Signed in until {isoMinute(props.expiresAt)}.</p>
      {data.apis.length === 0 ? (
        <p class="notice">
          No APIs yet: deploy one with <code>claw deploy</code>.
        </p>
      ) : (
        <Overview data={data} />
      )}
      {data.selected && slug ? <Selected s={data.selected} window={props.window} /> : null}
    </Layout>
  );
}

function Overview(props: { data: DashboardData }) {
  return (
    <section aria-labelledby="apis-h">
      <h2 id="apis-h">Your APIs</h2>
      <section class="scroll" tabindex={0} aria-label="Your APIs">
        <table id="my-apis">
          <thead>
            <tr>
              <th scope="col">API</th>
              <th scope="col" class="wide">
                Price
              </th>
              <th scope="col" class="num wide">
                Settled payments
              </th>
              <th scope="col" class="num">
                Revenue (ledger)
              </th>
            </tr>
          </thead>
          <tbody>
            {props.data.apis.map((a) => (
              <tr data-slug={a.slug}>
                <td class="name">
                  <a
                    href={`/dashboard?api=${a.slug}`}
                    aria-current={a.slug === props.data.selected?.config.slug ? "page" : undefined}
                  >
                    {a.slug}
                  </a>
                </td>
                <td class="wide">{priceSummary(a.config.priceUsd, a.config.prices)}</td>
                <td class="num wide">{formatInt(a.payments)}</td>
                <td class="num" data-field="revenue">
                  {a.revenueUsd}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </section>
  );
}

function Selected(props: { s: SelectedApi; window: WindowName }) {
  const { s, window } = props;
  const detail = s.snapshot?.windows[window];
  const decimals = decimalsOf(s.config);
  const usd = (atomic: string) => atomicToUsd(atomic, decimals);
  const today = s.stats?.windows.today;
  return (
    <section aria-labelledby="sel-h">
      <h2 id="sel-h">
        <a href={`/apis/${s.config.slug}`}>{s.config.slug}</a>
      </h2>
      <nav class="tabs" aria-label="Time window">
        {WINDOWS.map((w) => (
          <a href={`/dashboard?api=${s.config.slug}&window=${w}`} aria-current={w === window ? "page" : undefined}>
            {WINDOW_LABELS[w]}
          </a>
        ))}
      </nav>
      <dl class="stats">
        <Stat id="d-revenue" label="Revenue, all time (exact)" value={s.ledger.amountUsd} />
        <Stat id="d-revenue-atomic" label="Atomic units" value={s.ledger.amountAtomic} />
        <Stat id="d-payments" label="Settled payments" value={formatInt(s.ledger.payments)} />
        <Stat
          id="d-calls"
          label={`Organic calls, ${WINDOW_LABELS[window].toLowerCase()}`}
          value={formatInt(detail?.metrics.calls)}
        />
        <Stat id="d-calls-today" label="Calls today (meter)" value={formatInt(today?.calls)} />
        <Stat id="d-p95" label="p95 today (meter)" value={formatMs(today?.p95LatencyMs)} />
      </dl>
      <div class="two">
        <section class="panel" aria-labelledby="funnel-h">
          <h3 id="funnel-h">402 → paid</h3>
          <Funnel detail={detail} />
        </section>
        <section class="panel" aria-labelledby="traffic-h">
          <h3 id="traffic-h">Organic vs self-dealt</h3>
          <Traffic detail={detail} />
          <CallsChart id="dash-calls" points={s.series.points} title="Calls per hour: organic and self-dealt" />
        </section>
        <section class="panel" aria-labelledby="payers-h">
          <h3 id="payers-h">Top payers (ledger)</h3>
          <Payers ledger={s.ledger} linked={s.linked} />
        </section>
        <section class="panel" aria-labelledby="errors-h">
          <h3 id="errors-h">Errors and refusals by code</h3>
          <p class="small muted">
            From the newest {formatInt(s.series.eventsUsed)} usage events. Snapshot p95:{" "}
            {formatMs(detail?.metrics.p95Ms)}.
          </p>
          <Errors errors={s.errors} />
        </section>
      </div>
      <h3>Recent settlements</h3>
      <Settlements ledger={s.ledger} usd={usd} />
      <h3>Limits and spend caps</h3>
      <Limits rows={s.limits} />
    </section>
  );
}

function Stat(props: { id: string; label: string; value: string }) {
  return (
    <div class="stat">
      <dt>{props.label}</dt>
      <dd id={props.id}>{props.value}</dd>
    </div>
  );
}
