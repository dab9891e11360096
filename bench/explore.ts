// /explore under load (issue 12, docs/ARCHITECTURE.md §13): the server-rendered directory page
// against GET /health in the same dispatcher, interleaved rounds (p50/p95/p99 and the p95 ratio),
// and the page's weight: the HTML plus the CSS/JS it references (images excluded), as bytes on the
// wire when asked with `accept-encoding: gzip`, and gzip-compressed with node:zlib for reference.
import { request } from "node:http";
import { gunzipSync, gzipSync } from "node:zlib";
import { load, type LoadResult } from "./load.ts";
import { mean } from "./stats.ts";

export interface PartWeight {
  path: string;
  contentEncoding: string;
  wireBytes: number;
  identityBytes: number;
  gzipBytes: number;
}

export interface ExploreResult {
  explore: LoadResult[];
  health: LoadResult[];
  weight: PartWeight[];
  apisOnPage: number;
}

/** One GET with `accept-encoding: gzip`: the body bytes as received, and decoded. */
function getRaw(url: string): Promise<{ status: number; encoding: string; wire: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { "accept-encoding": "gzip" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          encoding: String(res.headers["content-encoding"] ?? "identity"),
          wire: Buffer.concat(chunks),
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

async function weigh(baseUrl: string, path: string): Promise<{ part: PartWeight; text: string }> {
  const res = await getRaw(`${baseUrl}${path}`);
  if (res.status !== 200) throw new Error(`GET ${path} → ${res.status}`);
  const identity = res.encoding === "gzip" ? gunzipSync(res.wire) : res.wire;
  const part = {
    path,
    contentEncoding: res.encoding,
    wireBytes: res.wire.length,
    identityBytes: identity.length,
    gzipBytes: gzipSync(identity).length,
  };
  return { part, text: identity.toString("utf8") };
}

/** Stylesheets and scripts the page references on our origin (icons and images are left out). */
export function pageAssets(html: string): string[] {
  const css = [...html.matchAll(/<link\b[^>]*rel="stylesheet"[^>]*href="(\/[^"]+)"/g)].map((m) => m[1]!);
  const js = [...html.matchAll(/<script\b[^>]*src="(\/[^"]+)"/g)].map((m) => m[1]!);
  return [...css, ...js].map((u) => u.replaceAll("&amp;", "&"));
}

export async function benchExplore(
  baseUrl: string,
  opts: { seconds: number; connections: number; rounds: number; apis: string[] },
): Promise<ExploreResult> {
  const page = await weigh(baseUrl, "/explore");
  const apisOnPage = opts.apis.filter((slug) => page.text.includes(slug)).length;
  const weight = [page.part];
  for (const asset of pageAssets(page.text)) weight.push((await weigh(baseUrl, asset)).part);
  const explore = `${baseUrl}/explore`;
  const health = `${baseUrl}/health`;
  await load("warm-up", explore, { seconds: 2, connections: opts.connections });
  const runs: { explore: LoadResult[]; health: LoadResult[] } = { explore: [], health: [] };
  for (let round = 0; round < opts.rounds; round++) {
    runs.health.push(await load("GET /health", health, { seconds: opts.seconds, connections: opts.connections }));
    runs.explore.push(await load("GET /explore", explore, { seconds: opts.seconds, connections: opts.connections }));
  }
  return { ...runs, weight, apisOnPage };
}

/** Non-2xx statuses and socket errors of some runs, e.g. "503 × 2, errors × 1". */
export function statusesOf(runs: LoadResult[]): string {
  const counts = new Map<string, number>();
  for (const r of runs) {
    for (const [code, n] of Object.entries(r.statuses))
      if (!code.startsWith("2")) counts.set(code, (counts.get(code) ?? 0) + n);
    if (r.errors > 0) counts.set("errors", (counts.get("errors") ?? 0) + r.errors);
  }
  return [...counts].map(([code, n]) => `${code} × ${n}`).join(", ") || "none";
}

const kb = (n: number) => (n / 1024).toFixed(1);

function row(name: string, runs: LoadResult[]): string {
  const failures = runs.reduce((n, x) => n + x.non2xx + x.errors, 0);
  const f = (g: (x: LoadResult) => number, d = 1) => mean(runs.map(g)).toFixed(d);
  const cells = [f((x) => x.requestsPerSec, 0), f((x) => x.p50Ms), f((x) => x.p95Ms), f((x) => x.p99Ms), failures];
  return `| ${name} | ${cells.join(" | ")} |`;
}

export function exploreReport(
  r: ExploreResult,
  opts: { connections: number; rounds: number; seconds: number },
): string[] {
  const p95e = mean(r.explore.map((x) => x.p95Ms));
  const p95h = mean(r.health.map((x) => x.p95Ms));
  const sum = (g: (p: PartWeight) => number) => r.weight.reduce((n, p) => n + g(p), 0);
  const failures = [...r.explore, ...r.health].reduce((n, x) => n + x.non2xx + x.errors, 0);
  const rps = mean(r.explore.map((x) => x.requestsPerSec)) / mean(r.health.map((x) => x.requestsPerSec));
  const total = [sum((p) => p.wireBytes), sum((p) => p.identityBytes), sum((p) => p.gzipBytes)].map(kb);
  return [
    `## /explore under load (issue 12)`,
    ``,
    `Command: \`npm run bench\` (the bench's dispatcher after the leaderboard read, ` +
      `so the snapshot holds this run's APIs: ` +
      `${r.apisOnPage} of the seeded slugs appear on the page; autocannon, ${opts.connections} connections, ` +
      `${opts.rounds}×${opts.seconds}s interleaved rounds with /health)`,
    ``,
    `| endpoint | req/s (mean) | p50 ms | p95 ms | p99 ms | non-2xx + errors |`,
    `| --- | ---: | ---: | ---: | ---: | ---: |`,
    row("GET /health", r.health),
    row("GET /explore", r.explore),
    ``,
    `**Ratio p95 /explore / /health: ${(p95e / p95h).toFixed(2)}** (target ≤ 2; /explore p95 target ≤ 200 ms); ` +
      `req/s ratio ${rps.toFixed(2)}`,
    ``,
    `Page weight (asked with \`accept-encoding: gzip\`; images excluded):`,
    ``,
    `| part | served as | bytes on the wire | uncompressed | gzip (node:zlib, default level) |`,
    `| --- | --- | ---: | ---: | ---: |`,
    ...r.weight.map(
      (p) => `| \`${p.path}\` | ${p.contentEncoding} | ${p.wireBytes} | ${p.identityBytes} | ${p.gzipBytes} |`,
    ),
    `| **total** | | **${total[0]} KiB** | ${total[1]} KiB | ${total[2]} KiB |`,
    ``,
    ...(failures > 0
      ? [
          `WARNING: ${failures} non-2xx responses or errors during the /explore run (${statusesOf([...r.explore, ...r.health])}).`,
          ``,
        ]
      : []),
  ];
}
