/** @jsxImportSource hono/jsx */
// /apis/:slug: what the API is, what it costs and whom it pays, how to call it (snippets and
// operations), its numbers for the chosen window, hourly charts and "why this rank".
import type { ApiDetail } from "../../../objects/leaderboard/snapshot-types.ts";
import { WINDOWS, type WindowName } from "../../../objects/leaderboard/windows.ts";
import { Layout } from "../layout.tsx";
import { formatFactor, formatInt, formatMs, formatPercent, isoMinute } from "../format.ts";
import { WINDOW_LABELS } from "../explore/page.tsx";
import { CallsChart, LatencyChart } from "../charts/charts.tsx";
import { uptime, type HourlySeries } from "../charts/series.ts";
import { operationsOf, snippets } from "./snippets.ts";
import { WhyThisRank } from "./why-rank.tsx";
import type { SnapshotMeta } from "../../../objects/leaderboard/snapshot-store.ts";

export function ApiPage(props: {
  api: ApiDetail;
  meta: SnapshotMeta | null;
  window: WindowName;
  series: HourlySeries;
  origin: string;
  prices?: Prices;
}) {
  const { api, window, series } = props;
  const detail = api.windows[window];
  const m = detail.metrics;
  const label = WINDOW_LABELS[window];
  return (
    <Layout title={api.slug} section="api" description={api.description || `${api.slug} on 402claw`}>
      <p class="small">
        <a href="/explore">Explore</a> /{" "}
        <a href={`/explore?directory=${encodeURIComponent(api.directory)}`}>{api.directory}</a>
      </p>
      <h1 id="api-slug">{api.slug}</h1>
      <p>
        <span class="badge">{api.directory}</span> <span class="badge">{api.resourceType}</span>{" "}
        <span class="badge">{api.paid ? `${api.price.usd} per call` : "free"}</span>
      </p>
      <p id="api-description">{api.description || <span class="muted">No description.</span>}</p>
      <nav class="tabs" aria-label="Time window">
        {WINDOWS.map((w) => (
          <a href={`/apis/${api.slug}?window=${w}`} aria-current={w === window ? "page" : undefined}>
            {WINDOW_LABELS[w]}
          </a>
        ))}
      </nav>
      <dl class="stats" aria-label={`Numbers, ${label}`}>
        <Stat id="m-rank" label="Rank" value={detail.rank === null ? "emerging" : `#${detail.rank}`} />
        <Stat id="m-score" label="Score" value={formatFactor(detail.score)} />
        <Stat id="m-calls" label="Calls" value={formatInt(m.calls)} />
        <Stat id="m-revenue" label="Revenue" value={m.revenueUsd} />
        <Stat id="m-payers" label="Payers" value={formatInt(m.payers)} />
        <Stat id="m-success" label="Success rate" value={formatPercent(m.successRate)} />
        <Stat id="m-uptime" label="Uptime" value={formatPercent(uptime(series.points))} />
        <Stat id="m-p95" label="p95 latency" value={formatMs(m.p95Ms)} />
      </dl>
      <p class="muted small">
        Numbers from snapshot {props.meta?.version ?? 0} ({isoMinute(props.meta?.asOf)}); self-dealt calls excluded (
        {formatInt(m.selfDealtCalls)} this window). Uptime: share of the charted hours with calls in which the API
        served at least one.
      </p>
      <div class="two">
        <section aria-labelledby="calls-h" class="panel">
          <h2 id="calls-h">Calls per hour</h2>
          <CallsChart id="calls-chart" points={series.points} title={`Calls per hour, ${label.toLowerCase()}`} />
        </section>
        <section aria-labelledby="lat-h" class="panel">
          <h2 id="lat-h">p95 latency per hour</h2>
          <LatencyChart id="lat-chart" points={series.points} title={`p95 latency per hour, ${label.toLowerCase()}`} />
        </section>
      </div>
      <p class="muted small">
        Charts from the API's newest {formatInt(series.eventsUsed)} usage events
        {series.truncated && series.oldestEventMs !== null
          ? `; hours before ${isoMinute(series.oldestEventMs)} are incomplete`
          : ""}
        .
      </p>
      <HowToCall api={api} origin={props.origin} prices={props.prices ?? null} />
      <WhyThisRank detail={detail} windowLabel={label} />
    </Layout>
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

type Prices = { operation: string; price: string }[] | null;

function HowToCall(props: { api: ApiDetail; origin: string; prices: Prices }) {
  const { api } = props;
  return (
    <section aria-labelledby="call-h">
      <h2 id="call-h">How to call it</h2>
      <dl class="kv panel">
        <dt>URL</dt>
        <dd>
          <code>{`${props.origin}${api.path}`}</code>
        </dd>
        {api.hosts.map((h) => (
          <>
            <dt>Host</dt>
            <dd>
              <code>{`https://${h}/`}</code>
            </dd>
          </>
        ))}
        <dt>Price</dt>
        <dd id="api-price">
          {api.paid
            ? `${api.price.usd} per call (${api.price.atomic} atomic units, ${api.price.decimals} decimals)`
            : "free"}
          {props.prices ? (
            <ul id="api-prices">
              {props.prices.map((p) => (
                <li>
                  <code>{p.operation}</code> {p.price}
                </li>
              ))}
            </ul>
          ) : null}
        </dd>
        {api.paid ? (
          <>
            <dt>Pays to</dt>
            <dd>
              <code id="api-payto">{api.payTo ?? "–"}</code>
            </dd>
            <dt>Network</dt>
            <dd>
              <code>{api.network}</code>
            </dd>
            <dt>Payment</dt>
            <dd>x402 v2, scheme exact: answer the 402 by signing its PAYMENT-REQUIRED, send it as PAYMENT-SIGNATURE</dd>
          </>
        ) : null}
      </dl>
      {snippets(api, props.origin).map((s) => (
        <div class="snippet">
          <h3>{s.label}</h3>
          <div class="code">
            <pre data-copy={s.label} id={`snippet-${s.id}`} tabindex={0}>
              <code>{s.code}</code>
            </pre>
          </div>
        </div>
      ))}
      <h3>Operations</h3>
      <ul class="ops" id="operations">
        {operationsOf(api.resourceType).map((op) => (
          <li>
            <code>
              {op.method} {op.path}
            </code>{" "}
            {op.what}
            <br />
            <span class="small muted">Example response:</span> <code>{op.response}</code>
          </li>
        ))}
      </ul>
    </section>
  );
}
