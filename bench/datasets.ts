// Creator-side numbers (issue 5): wall time of `claw deploy` (the real CLI binary: read, upload,
// server-side parse, R2 + D1 writes) for a 10 MB CSV, and the dataset query p50 on 100k rows
// through the dispatcher (metered, tenant isolate, filter + sort on the warm dataset).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "../cli/local/paths.ts";
import { ascending, median, percentile } from "./stats.ts";

const run = promisify(execFile);

function csv(targetBytes: number | null, rows: number | null): { text: string; rows: number } {
  const countries = ["FR", "DE", "JP", "US", "BR", "IN", "NG", "CA"];
  const lines = ["id,name,country,score,active,joined"];
  let size = lines[0]!.length + 1;
  let id = 0;
  while ((targetBytes !== null && size < targetBytes) || (rows !== null && id < rows)) {
    id += 1;
    const line = `${id},user-${id.toString(36)}-${"x".repeat(id % 17)},${countries[id % countries.length]},${((id * 7919) % 100000) / 100},${id % 3 === 0},2026-${String((id % 12) + 1).padStart(2, "0")}-01`;
    lines.push(line);
    size += line.length + 1;
  }
  return { text: lines.join("\n") + "\n", rows: id };
}

async function deployWithCli(apiUrl: string, apiKey: string, file: string, name: string): Promise<number> {
  const t0 = performance.now();
  await run(process.execPath, [join(REPO_ROOT, "cli", "bin.mjs"), "deploy", file, "--name", name, "--json"], {
    cwd: REPO_ROOT,
    env: { ...process.env, CLAW_API_URL: apiUrl, CLAW_API_KEY: apiKey },
    maxBuffer: 16 * 1024 * 1024,
  });
  return performance.now() - t0;
}

/** Sequential timings of each URL, taken in turn so drift hits them alike; failures counted. */
async function timeInTurn(urls: string[], rounds: number): Promise<{ times: number[][]; failures: number }> {
  const times = urls.map(() => [] as number[]);
  let failures = 0;
  for (let round = 0; round < rounds; round++) {
    for (const [i, url] of urls.entries()) {
      const t0 = performance.now();
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) times[i]!.push(performance.now() - t0);
      else failures += 1;
    }
  }
  return { times, failures };
}

const p50p99 = (values: number[]) => {
  const sorted = ascending(values);
  return `${percentile(sorted, 50).toFixed(1)} / ${percentile(sorted, 99).toFixed(1)} ms`;
};

/**
 * `directUrl`: the dispatcher's own workerd socket (bench/direct-socket.ts), without wrangler
 * dev's ProxyWorker hop; when given, every query is also timed there, in turn with the proxied one.
 */
export async function benchDatasets(
  apiUrl: string,
  apiKey: string,
  directUrl: string | null,
  queries = 400,
): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "claw-bench-data-"));
  try {
    const big = csv(10 * 1024 * 1024, null);
    writeFileSync(join(dir, "ten-mb.csv"), big.text);
    const deployTimes: number[] = [];
    for (let i = 0; i < 3; i++)
      deployTimes.push(await deployWithCli(apiUrl, apiKey, join(dir, "ten-mb.csv"), "bench-ten-mb"));

    const rows = csv(null, 100_000);
    writeFileSync(join(dir, "rows-100k.csv"), rows.text);
    await deployWithCli(apiUrl, apiKey, join(dir, "rows-100k.csv"), "bench-rows-100k");
    const shapes = [
      "/t/bench-rows-100k/v1/records?country=JP&active=true&sort=-score&limit=20",
      "/t/bench-rows-100k/v1/records?q=user-2&limit=10",
      "/t/bench-rows-100k/v1/records?sort=name&offset=50000&limit=50&fields=id,name",
      "/t/bench-rows-100k/v1/records?limit=1", // the floor: the same metered path with next to no engine work
      "/health",
    ];
    const origins = directUrl ? [apiUrl, directUrl] : [apiUrl];
    const urls = shapes.flatMap((shape) => origins.map((origin) => origin + shape));
    // Warm-up: the first query of an isolate loads the dataset and builds sort indexes.
    await timeInTurn(urls, 3);
    const { times, failures } = await timeInTurn(urls, Math.ceil(queries / 4));
    const at = (shape: number, origin: number) => times[shape * origins.length + origin]!;
    const name = (shape: string) =>
      shape === "/health"
        ? "`GET /health`, sequential, same run"
        : `query on 100k rows: \`${shape.split("records")[1]}\``;
    const direct = directUrl !== null;
    return [
      `## Creator and dataset numbers (issue 5)`,
      ``,
      `Command: \`npm run bench\`. \`claw deploy\` is the real CLI binary (a new Node process each time) against the bench dispatcher; queries are sequential over loopback, ${Math.ceil(queries / 4)} of each, in turn` +
        (direct
          ? `, each also sent to the dispatcher's own workerd socket (without wrangler dev's ProxyWorker hop, which production does not have; bench/direct-socket.ts).`
          : `; the dispatcher's own socket was not found, so only the figures through wrangler dev's proxy.`),
      ``,
      direct
        ? `| measure | through wrangler dev (p50 / p99) | at the dispatcher's socket (p50 / p99) |`
        : `| measure | value |`,
      direct ? `| --- | ---: | ---: |` : `| --- | ---: |`,
      `| \`claw deploy\` of a ${(big.text.length / 1048576).toFixed(1)} MiB CSV (${big.rows} rows), 3 runs | ${deployTimes.map((t) => (t / 1000).toFixed(2)).join(" s, ")} s (median ${(median(ascending(deployTimes)) / 1000).toFixed(2)} s) |${direct ? " |" : ""}`,
      ...shapes.map((shape, i) => `| ${name(shape)} | ${p50p99(at(i, 0))} |${direct ? ` ${p50p99(at(i, 1))} |` : ""}`),
      `| failed queries | ${failures} |${direct ? " |" : ""}`,
      ``,
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
