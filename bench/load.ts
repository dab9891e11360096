// Bounded loopback load with autocannon: fixed duration and connection count, 127.0.0.1 only.
import autocannon from "autocannon";

export interface LoadResult {
  label: string;
  url: string;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
  non2xx: number;
  errors: number;
}

export async function load(label: string, url: string, opts: { connections?: number; seconds?: number; headers?: Record<string, string> } = {}): Promise<LoadResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error(`benchmarks only target 127.0.0.1, not ${url}`);
  const result = await autocannon({ url, connections: opts.connections ?? 10, duration: opts.seconds ?? 8, headers: opts.headers ?? {} });
  return {
    label,
    url,
    requestsPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}
