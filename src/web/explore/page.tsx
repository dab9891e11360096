/** @jsxImportSource hono/jsx */
// /explore (and / on platform hosts): window tabs, hero stats, directory cards, the ranked list,
// the emerging rail, and a plain GET search form. Every row links to its API page.
import type { DirectoryRollup, LeaderboardEntry } from "../../../objects/leaderboard/snapshot-types.ts";
import { WINDOWS, type WindowName } from "../../../objects/leaderboard/windows.ts";
import { Layout } from "../layout.tsx";
import { formatFactor, formatInt, formatMs, formatPercent, isoMinute, plural } from "../format.ts";
import { directoryHealth, SUCCESS_OBJECTIVE, type DirectoryHealth } from "./health.ts";
import type { ExploreData, ExploreQuery } from "./data.ts";

export const WINDOW_LABELS: Readonly<Record<WindowName, string>> = {
  today: "Today",
  week: "This week",
  overall: "Overall",
};

export function exploreHref(q: Partial<ExploreQuery>): string {
  const params = new URLSearchParams();
  if (q.window) params.set("window", q.window);
  if (q.q) params.set("q", q.q);
  if (q.directory) params.set("directory", q.directory);
  const s = params.toString();
  return s ? `/explore?${s}` : "/explore";
}

export function ExplorePage(props: { data: ExploreData; query: ExploreQuery }) {
  const { data, query } = props;
  const effective = new Map(data.health.map((h) => [h.slug, h]));
  const health = directoryHealth(data.health);
  const filtered = query.q !== null || query.directory !== null;
  return (
    <Layout
      title="Explore APIs"
      section="explore"
      description="Trending pay-per-call APIs for agents, ranked by real paid usage."
    >
      <h1>Explore APIs</h1>
      <p class="muted">
        Ranked by real paid usage: many distinct payers, quality and steady traffic, creator self-dealing excluded.{" "}
        {data.meta
          ? `Snapshot ${data.meta.version}, as of ${isoMinute(data.meta.asOf)}.`
          : "No snapshot yet: the first rollup runs within a minute of the first call."}
      </p>
      <nav class="tabs" aria-label="Time window">
        {WINDOWS.map((w) => (
          <a href={exploreHref({ ...query, window: w })} aria-current={w === query.window ? "page" : undefined}>
            {WINDOW_LABELS[w]}
          </a>
        ))}
      </nav>
      <dl class="stats" aria-label={`Totals, ${WINDOW_LABELS[query.window]}`}>
        <Stat label="Active payers" value={formatInt(data.stats.activePayers)} id="stat-payers" />
        <Stat label="Published APIs" value={formatInt(data.stats.publishedApis)} id="stat-apis" />
        <Stat label="Directories" value={formatInt(data.stats.directories)} id="stat-directories" />
        <Stat label="Calls" value={formatInt(data.stats.calls)} id="stat-calls" />
        <Stat label="Revenue" value={data.stats.revenueUsd} id="stat-revenue" />
      </dl>
      <SearchForm query={query} directories={data.directories} />
      <div class="layout">
        <section aria-labelledby="ranked-h">
          <h2 id="ranked-h">
            Trending {WINDOW_LABELS[query.window].toLowerCase()}
            {filtered ? <span class="muted small"> · {formatInt(data.totals.ranked)} matching</span> : null}
          </h2>
          <RankedTable entries={data.ranked} effective={effective} />
        </section>
        <aside class="rail panel" aria-labelledby="emerging-h">
          <h2 id="emerging-h">Emerging</h2>
          <p class="muted small">Not ranked yet: an API ranks from 3 weighted payers with a score above 0.</p>
          <EmergingList entries={data.emerging} weighted={effective} />
        </aside>
      </div>
      <section aria-labelledby="dirs-h">
        <h2 id="dirs-h">Directories</h2>
        <div class="grid">
          {data.directories.map((d) => (
            <DirectoryCard d={d} health={health.get(d.directory)} query={query} />
          ))}
        </div>
        {data.directories.length === 0 ? <p class="muted">No published APIs yet.</p> : null}
      </section>
    </Layout>
  );
}

function Stat(props: { label: string; value: string; id: string }) {
  return (
    <div class="stat">
      <dt>{props.label}</dt>
      <dd id={props.id}>{props.value}</dd>
    </div>
  );
}

function SearchForm(props: { query: ExploreQuery; directories: readonly DirectoryRollup[] }) {
  return (
    <search>
      <form class="search" method="get" action="/explore">
        <input type="hidden" name="window" value={props.query.window} />
        <label>
          Search
          <input type="search" name="q" value={props.query.q ?? ""} maxlength={100} placeholder="name or description" />
        </label>
        <label>
          Directory
          <select name="directory">
            <option value="">All directories</option>
            {props.directories.map((d) => (
              <option value={d.directory} selected={d.directory === props.query.directory}>
                {d.directory}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Search</button>
        {props.query.q || props.query.directory ? (
          <a href={exploreHref({ window: props.query.window })}>Clear</a>
        ) : null}
      </form>
    </search>
  );
}

function RankedTable(props: {
  entries: readonly LeaderboardEntry[];
  effective: Map<string, { effectivePayers: number }>;
}) {
  if (props.entries.length === 0) return <p class="notice">No ranked APIs here yet.</p>;
  return (
    <section class="scroll" tabindex={0} aria-label="Ranked APIs">
      <table id="ranked">
        <thead>
          <tr>
            <th scope="col" class="num">
              #
            </th>
            <th scope="col">API</th>
            <th scope="col" class="wide">
              Directory
            </th>
            <th scope="col" class="num">
              Price
            </th>
            <th scope="col" class="num">
              Calls
            </th>
            <th scope="col" class="num">
              Revenue
            </th>
            <th scope="col" class="num wide">
              Payers
            </th>
            <th scope="col" class="num wide">
              Effective
            </th>
            <th scope="col" class="num wide">
              Success
            </th>
            <th scope="col" class="num wide">
              p95
            </th>
            <th scope="col" class="num">
              Score
            </th>
          </tr>
        </thead>
        <tbody>
          {props.entries.map((e) => (
            <tr data-slug={e.slug}>
              <td class="num">{e.rank}</td>
              <td class="name">
                <a href={`/apis/${e.slug}`}>{e.slug}</a>
                {e.description ? <span class="desc">{e.description}</span> : null}
              </td>
              <td class="wide">{e.directory}</td>
              <td class="num">{e.paid ? e.price.usd : "free"}</td>
              <td class="num" data-field="calls">
                {formatInt(e.metrics.calls)}
              </td>
              <td class="num" data-field="revenue">
                {e.metrics.revenueUsd}
              </td>
              <td class="num wide">{formatInt(e.metrics.payers)}</td>
              <td class="num wide">{formatFactor(props.effective.get(e.slug)?.effectivePayers)}</td>
              <td class="num wide">{formatPercent(e.metrics.successRate)}</td>
              <td class="num wide">{formatMs(e.metrics.p95Ms)}</td>
              <td class="num" data-field="score">
                {formatFactor(e.score)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function EmergingList(props: {
  entries: readonly LeaderboardEntry[];
  weighted: Map<string, { weightedPayers: number }>;
}) {
  if (props.entries.length === 0) return <p class="muted">Nothing emerging here.</p>;
  return (
    <ol id="emerging">
      {props.entries.map((e) => (
        <li data-slug={e.slug}>
          <a href={`/apis/${e.slug}`}>{e.slug}</a> <span class="badge">{e.directory}</span>
          {e.description ? <span class="desc small">{e.description}</span> : <br />}
          <span class="small muted">
            {plural(e.metrics.calls, "call")} · {plural(e.metrics.payers, "payer")} ·{" "}
            {formatFactor(props.weighted.get(e.slug)?.weightedPayers ?? 0)} of 3 weighted
          </span>
        </li>
      ))}
    </ol>
  );
}

function DirectoryCard(props: { d: DirectoryRollup; health: DirectoryHealth | undefined; query: ExploreQuery }) {
  const { d, health } = props;
  return (
    <article class="panel card" data-directory={d.directory}>
      <h3>
        <a href={exploreHref({ window: props.query.window, directory: d.directory })}>{d.directory}</a>
      </h3>
      <dl>
        <dt>APIs</dt>
        <dd>
          {formatInt(d.apis)} ({formatInt(d.rankedApis)} ranked)
        </dd>
        <dt>Calls</dt>
        <dd>{formatInt(d.calls)}</dd>
        <dt>Revenue</dt>
        <dd>{d.revenueUsd}</dd>
        <dt>Success</dt>
        <dd>{formatPercent(health?.successRate ?? null)}</dd>
        <dt>Error budget</dt>
        <dd>{health?.budgetLeft == null ? "–" : `${formatPercent(health.budgetLeft, 0)} left`}</dd>
      </dl>
      {health?.budgetLeft != null ? (
        <meter
          min={0}
          max={1}
          low={0.25}
          high={0.5}
          optimum={1}
          value={health.budgetLeft}
          aria-label={`${d.directory} error budget left (${formatPercent(SUCCESS_OBJECTIVE, 0)} objective)`}
        ></meter>
      ) : null}
    </article>
  );
}
