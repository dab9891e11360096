// HTTP fuzz through the real dispatcher (issue 9 item 7): a bounded run of random methods, paths,
// queries, headers and bodies against a free dataset tenant (path and host mode), a function
// tenant, a paid tenant's challenge path (no payment header: this test deployment has no
// facilitator) and the platform routes. Asserts 0 responses ≥ 500, and that every error body is
// the envelope with `error.code` and the `requestId` (a 402 carries `code` and `requestId` at the
// top level, next to `accepts`). Prints count, codes seen and time for BENCHMARKS.md.
import fc from "fast-check";
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { oddPath } from "../support/arbitraries.ts";
import { auth, call, CITIES_CSV, createCreator, deployOk, uniqueSlug } from "./helpers.ts";

const REQUESTS = 5_000;
const CONCURRENCY = 8;
const TIME_BUDGET_MS = 150_000;
const PAY_TO = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const ASSET = { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", name: "USDC", version: "2", decimals: 6 };

let targets: { dataset: string; fn: string; paid: string; host: string };

beforeAll(async () => {
  const { key } = await createCreator("Fuzz Creator");
  const dataset = uniqueSlug("fzds");
  const host = `${dataset}.fuzz.example`;
  await deployOk(key, dataset, CITIES_CSV, { config: { hosts: [host] } });
  const paid = uniqueSlug("fzpaid");
  await deployOk(key, paid, CITIES_CSV, {
    config: { priceUsd: 0.001, payTo: PAY_TO, network: "eip155:84532", asset: ASSET },
  });
  const fn = uniqueSlug("fzfn");
  const form = new FormData();
  const echo =
    "export default async (req) => ({ m: req.method, p: new URL(req.url).pathname, n: (await req.arrayBuffer()).byteLength });";
  form.set("code", new File([echo], "index.js"));
  form.set("config", JSON.stringify({ resource: { type: "function" } }));
  const res = await call(`/v1/tenants/${fn}/deployments`, { method: "POST", headers: auth(key), body: form });
  if (res.status !== 201) throw new Error(`deploy ${fn}: ${res.status} ${await res.text()}`);
  targets = { dataset, fn, paid, host };
}, 60_000);

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
// workerd's Request accepts only methods it knows (any case); others cannot reach the dispatcher.
const method = fc.oneof(
  { arbitrary: fc.constantFrom("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"), weight: 5 },
  fc.constantFrom(
    "get",
    "post",
    "Head",
    "PROPFIND",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "PURGE",
    "REPORT",
    "SEARCH",
    "MERGE",
    "NOTIFY",
  ),
);
const query = fc.oneof(
  fc.constant(""),
  fc
    .array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom("q", "sort", "limit", "offset", "cursor", "fields", "city", "filter[id]"),
          fc.string({ maxLength: 6 }),
        ),
        fc.string({ maxLength: 10 }),
      ),
      { maxLength: 5 },
    )
    .map((pairs) => `?${new URLSearchParams(pairs)}`),
  fc.string({ unit: "binary", maxLength: 30 }).map((s) => `?${s}`),
);
const headerValue = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,30}$/);
const header = fc.oneof(
  fc.tuple(
    fc.constantFrom(
      "content-type",
      "accept",
      "x-request-id",
      "authorization",
      "cookie",
      "range",
      "if-none-match",
      "x-forwarded-for",
      "host",
      "x-caller-id",
      "accept-encoding",
      "origin",
      "x-claw-proxy-depth",
    ),
    headerValue,
  ),
  fc.tuple(
    fc.constantFrom("content-type"),
    fc.constantFrom("application/json", "multipart/form-data; boundary=x", "text/csv"),
  ),
  fc.tuple(token, headerValue),
);
const body = fc.oneof(
  { arbitrary: fc.constant(null), weight: 40 },
  { arbitrary: fc.string({ maxLength: 200 }), weight: 30 },
  { arbitrary: fc.jsonValue({ maxDepth: 2 }).map((j) => JSON.stringify(j)), weight: 20 },
  { arbitrary: fc.uint8Array({ maxLength: 4096 }), weight: 20 },
  // Just past the tenant body limit (1 MiB): the 413 path, now and then.
  { arbitrary: fc.constant(null).map(() => new Uint8Array(1024 * 1024 + 1)), weight: 1 },
);
const fuzzRequest = fc.record({
  target: fc.constantFrom("dataset", "fn", "paid", "host", "platform"),
  method,
  path: oddPath,
  query,
  headers: fc.array(header, { maxLength: 5 }),
  body,
});
type FuzzRequest = typeof fuzzRequest extends fc.Arbitrary<infer T> ? T : never;

function toRequest(r: FuzzRequest): Request | null {
  const base = r.target === "host" ? `https://${targets.host}` : "http://localhost";
  const prefix = r.target === "host" || r.target === "platform" ? "" : `/t/${targets[r.target]}`;
  const headers = new Headers();
  try {
    for (const [name, value] of r.headers) {
      // The paid tenant's challenge path: a payment would meet the missing facilitator (503 by design).
      if (r.target === "paid" && /^(payment-|x-payment)/i.test(name)) continue;
      headers.append(name, value);
    }
    const withBody = r.method.toUpperCase() !== "GET" && r.method.toUpperCase() !== "HEAD";
    return new Request(`${base}${prefix}${r.path}${r.query}`, {
      method: r.method,
      headers,
      body: withBody ? r.body : null,
    });
  } catch {
    return null; // a request no client can build (forbidden method, bad header value)
  }
}

async function check(request: Request, codes: Map<string, number>): Promise<void> {
  const res = await exports.default.fetch(request);
  const text = request.method === "HEAD" ? "" : await res.text();
  const where = `${request.method} ${request.url} → ${res.status} ${text.slice(0, 200)}`;
  expect(res.status, where).toBeLessThan(500);
  let code = request.method === "HEAD" ? `${res.status} (HEAD, no body)` : String(res.status);
  if (res.status >= 400 && request.method !== "HEAD") {
    const json = JSON.parse(text);
    const errorCode = res.status === 402 ? json.code : json.error?.code;
    expect(typeof errorCode, where).toBe("string");
    expect(json.requestId, where).toBe(res.headers.get("x-request-id"));
    code = `${res.status} ${errorCode}`;
  }
  expect(res.headers.get("x-request-id"), where).toMatch(/^req_/);
  codes.set(code, (codes.get(code) ?? 0) + 1);
}

describe("HTTP fuzz through the dispatcher", () => {
  it(
    `${REQUESTS} random requests: 0 responses ≥ 500, every error an envelope with a request id`,
    async () => {
      const started = Date.now();
      // More samples than needed: the few requests no client can build are skipped, not counted.
      const samples = fc.sample(fuzzRequest, REQUESTS * 2);
      const codes = new Map<string, number>();
      let sent = 0;
      let skipped = 0;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (sent < REQUESTS && next < samples.length && Date.now() - started < TIME_BUDGET_MS) {
          const request = toRequest(samples[next++]!);
          if (!request) {
            skipped++;
            continue;
          }
          sent++;
          await check(request, codes);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      const ms = Date.now() - started;
      const seen = [...codes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}: ${n}`);
      console.log(
        `http fuzz: ${sent} requests (${skipped} unbuildable skipped) in ${ms} ms, ${Math.round(sent / (ms / 1000))} req/s; ≥500: 0\n  ${seen.join("\n  ")}`,
      );
      expect(sent).toBe(REQUESTS);
    },
    TIME_BUDGET_MS + 30_000,
  );
});
