/** @jsxImportSource hono/jsx */
// Server-rendered SVG charts (no script, no inline style: colours come from the stylesheet's
// classes). Each chart has a title for screen readers and a data table behind a <details>.
import type { HourPoint } from "./series.ts";
import { niceMax, scaleY } from "./scale.ts";
import { formatInt, formatMs } from "../format.ts";

const W = 600;
const H = 160;
const PAD = { left: 80, bottom: 28, top: 10, right: 8 };
const PLOT_W = W - PAD.left - PAD.right;
const PLOT_H = H - PAD.top - PAD.bottom;

const hourLabel = (ms: number) => `${new Date(ms).toISOString().slice(11, 13)}h`;

function Axes(props: { max: number; format: (n: number) => string; points: readonly HourPoint[] }) {
  const step = Math.max(1, Math.ceil(props.points.length / 6));
  return (
    <g>
      <line class="axis" x1={PAD.left} y1={PAD.top + PLOT_H} x2={W - PAD.right} y2={PAD.top + PLOT_H} />
      <line class="axis" x1={PAD.left} y1={PAD.top} x2={W - PAD.right} y2={PAD.top} />
      <text x={PAD.left - 6} y={PAD.top + 14} text-anchor="end">
        {props.format(props.max)}
      </text>
      <text x={PAD.left - 6} y={PAD.top + PLOT_H} text-anchor="end">
        0
      </text>
      {props.points.map((p, i) =>
        i % step === 0 ? (
          <text x={PAD.left + (i + 0.5) * (PLOT_W / props.points.length)} y={H - 3} text-anchor="middle">
            {hourLabel(p.hour)}
          </text>
        ) : null,
      )}
    </g>
  );
}

export function CallsChart(props: { id: string; points: readonly HourPoint[]; title: string }) {
  const max = niceMax(Math.max(0, ...props.points.map((p) => p.organic + p.selfDealt)));
  const slot = PLOT_W / Math.max(1, props.points.length);
  const bw = Math.max(2, slot * 0.7);
  return (
    <figure>
      <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${props.id}-t`}>
        <title id={`${props.id}-t`}>{props.title}</title>
        <Axes max={max} format={formatInt} points={props.points} />
        {props.points.map((p, i) => {
          const x = PAD.left + i * slot + (slot - bw) / 2;
          const ho = scaleY(p.organic, max, PLOT_H);
          const hs = scaleY(p.selfDealt, max, PLOT_H);
          const base = PAD.top + PLOT_H;
          return (
            <g>
              {ho > 0 ? (
                <rect
                  class="bar"
                  x={x.toFixed(1)}
                  y={(base - ho).toFixed(1)}
                  width={bw.toFixed(1)}
                  height={ho.toFixed(1)}
                />
              ) : null}
              {hs > 0 ? (
                <rect
                  class="bar2"
                  x={x.toFixed(1)}
                  y={(base - ho - hs).toFixed(1)}
                  width={bw.toFixed(1)}
                  height={hs.toFixed(1)}
                />
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption class="legend">
        <span>
          <span class="sw" aria-hidden="true"></span>organic calls
        </span>
        <span>
          <span class="sw s2" aria-hidden="true"></span>self-dealt (excluded from ranking)
        </span>
      </figcaption>
      <DataTable points={props.points} />
    </figure>
  );
}

export function LatencyChart(props: { id: string; points: readonly HourPoint[]; title: string }) {
  const max = niceMax(Math.max(0, ...props.points.map((p) => p.p95Ms ?? 0)));
  const slot = PLOT_W / Math.max(1, props.points.length);
  const coords = props.points
    .map((p, i) =>
      p.p95Ms === null
        ? null
        : `${(PAD.left + (i + 0.5) * slot).toFixed(1)},${(PAD.top + PLOT_H - scaleY(p.p95Ms, max, PLOT_H)).toFixed(1)}`,
    )
    .filter((c): c is string => c !== null);
  return (
    <figure>
      <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${props.id}-t`}>
        <title id={`${props.id}-t`}>{props.title}</title>
        <Axes max={max} format={(n) => formatMs(n)} points={props.points} />
        {coords.length > 1 ? <polyline class="line" points={coords.join(" ")} /> : null}
        {coords.map((c) => {
          const [x, y] = c.split(",");
          return <circle class="bar" cx={x} cy={y} r="3" />;
        })}
      </svg>
    </figure>
  );
}

function DataTable(props: { points: readonly HourPoint[] }) {
  const active = props.points.filter((p) => p.organic + p.selfDealt + p.failures > 0);
  return (
    <details class="small">
      <summary>Hourly numbers</summary>
      {active.length === 0 ? (
        <p class="muted">No calls in these hours.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">hour (UTC)</th>
              <th scope="col" class="num">
                organic
              </th>
              <th scope="col" class="num">
                self-dealt
              </th>
              <th scope="col" class="num">
                failed
              </th>
              <th scope="col" class="num">
                p95
              </th>
            </tr>
          </thead>
          <tbody>
            {active.map((p) => (
              <tr>
                <td>{new Date(p.hour).toISOString().slice(0, 13).replace("T", " ")}:00</td>
                <td class="num">{formatInt(p.organic)}</td>
                <td class="num">{formatInt(p.selfDealt)}</td>
                <td class="num">{formatInt(p.failures)}</td>
                <td class="num">{formatMs(p.p95Ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}
