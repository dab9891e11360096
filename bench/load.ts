// Bounded loopback load with autocannon: fixed duration and connection count, 127.0.0.1 only.
// p50/p99 are autocannon's own histogram; p95 (which autocannon does not report) is computed from
// the same per-response times, collected from its `response` events.
import autocannon from "autocannon";
import { percentile } from "./stats.ts";

export interface LoadResult {
  label: string;
  url: string;
  requestsPerSec: number;
  p50Ms: number;
  /** The median of the per-response times, which are finer than autocannon's whole-ms p50. */
  medianMs: number;
  p95Ms: number;
  p99Ms: number;
  total: number;
  non2xx: number;
  errors: number;
  /** Responses per HTTP status, so a warning can say what went wrong. */
  statuses: Record<string, number>;
}

export async function load(
  label: string,
  url: string,
  opts: { connections?: number; seconds?: number; headers?: Record<string, string> } = {},
): Promise<LoadResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error(`benchmarks only target 127.0.0.1, not ${url}`);
  const times: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const options = {
      url,
      connections: opts.connections ?? 10,
      duration: opts.seconds ?? 8,
      headers: opts.headers ?? {},
    };
    const instance = autocannon(options, (err, res) => (err ? reject(err) : resolve(res)));
    instance.on("response", (_client, _status, _bytes, ms) => times.push(ms));
  });
  times.sort((a, b) => a - b);
  return {
    label,
    url,
    requestsPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    medianMs: percentile(times, 50),
    p95Ms: percentile(times, 95),
    p99Ms: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    statuses: statusCounts(result),
  };
}

/** A free tenant's limits high enough never to refuse, so the meter does its full work on every call. */
export const HIGH_LIMITS = {
  rateLimit: {
    perCaller: { requests: 10_000_000, windowSeconds: 60 },
    global: { requests: 10_000_000, windowSeconds: 60 },
  },
  usageLimit: { dailyRequests: 100_000_000, monthlyRequests: 1_000_000_000 },
};

function statusCounts(result: autocannon.Result): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) out[code] = stat?.count ?? 0;
  return out;
}
