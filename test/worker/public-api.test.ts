// The public leaderboard API end to end: real tenants deployed through the control plane, usage
// events ingested into the Leaderboard shard, a forced rollup into the D1 snapshot, then every
// public route over HTTP: shapes (checked against /openapi.json), ETag/304, Cache-Control, CORS,
// bad input, and the operator and creator routes that feed the leaderboard.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { leaderboardFor } from "../../objects/leaderboard/shards.ts";
import type { UsageEvent } from "../../objects/shared/usage-event.ts";
import { auth, call, CITIES_CSV, createCreator, deployOk, expectError, OPERATOR, uniqueSlug } from "./helpers.ts";
import { usageEvent } from "../support/usage-events.ts";
import { validateDiscoveryExtension } from "@x402/extensions/bazaar";
import * as v from "valibot";
import { COMPONENTS } from "../../src/public/schemas.ts";
import { checkSchema as check, type Schema } from "../support/schema-check.ts";
import { DAY_MS as DAY, HOUR_MS as HOUR } from "../../objects/shared/time.ts";

function addr(tag: string, i: number): string {
  const hex = [...`${tag}${i}`].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
  return `0x${hex.padEnd(40, "0").slice(0, 40)}`;
}

function ev(apiId: string, owner: string, caller: string, ts: number, over: Partial<UsageEvent> = {}): UsageEvent {
  return usageEvent({ apiId, owner, caller, ts, latencyMs: 42, ...over });
}

async function rollup(): Promise<{ version: number; changed: boolean }> {
  const res = await call("/__platform/rollup", { method: "POST", headers: OPERATOR });
  expect(res.status).toBe(200);
  return res.json();
}

async function getJson(path: string, init: RequestInit = {}): Promise<{ res: Response; body: any }> {
  const res = await call(path, init);
  return { res, body: res.status === 304 ? null : await res.json() };
}

// ---- fixtures ------------------------------------------------------------------------------

const payTo = addr("payto", 1);
const creatorWallet = addr("mine", 1);
let creator: { id: string; key: string };
let cheap: string; // $0.001, 3 calls
let popular: string; // 8 established payers
let free: string;
let directory: string;

beforeAll(async () => {
  creator = await createCreator("Leaderboard Creator");
  cheap = uniqueSlug("cheap");
  popular = uniqueSlug("popular");
  free = uniqueSlug("free");
  directory = `dir-${crypto.randomUUID().slice(0, 8)}`;
  await deployOk(creator.key, cheap, CITIES_CSV, {
    config: { priceUsd: 0.001, payTo, directory, description: "Cheap city data" },
  });
  await deployOk(creator.key, popular, CITIES_CSV, {
    config: { priceUsd: 0.002, payTo, directory, description: "Popular weather feed" },
  });
  await deployOk(creator.key, free, CITIES_CSV, { config: { directory: "general", description: "Free cities" } });
  const now = Date.now();
  const o = creator.id;
  const events: UsageEvent[] = [
    ...Array.from({ length: 3 }, (_, i) => ev(cheap, o, addr("cheapfan", i), now - 1000 - i)),
    ...Array.from({ length: 8 }, (_, p) =>
      [0, 1, 2].map((k) =>
        ev(popular, o, addr("fan", p), now - 2 * DAY - k * HOUR - p * 60_000, {
          billedAtomic: "2000",
          priceAtomic: "2000",
        }),
      ),
    ).flat(),
    // the creator's own wallets: never ranked
    ...Array.from({ length: 50 }, (_, i) =>
      ev(popular, o, payTo, now - 3 * HOUR - i, { billedAtomic: "2000", priceAtomic: "2000" }),
    ),
    ...Array.from({ length: 5 }, (_, i) =>
      ev(popular, o, creatorWallet, now - 4 * HOUR - i, { billedAtomic: "2000", priceAtomic: "2000" }),
    ),
    ...Array.from({ length: 4 }, (_, i) =>
      ev(free, o, `ip:${i}feed`, now - DAY - i, {
        lifecycle: "served",
        billable: false,
        billedAtomic: "0",
        priceAtomic: "0",
      }),
    ),
    ev(cheap, o, `ip:challenger`, now - 500, {
      lifecycle: "payment_challenged",
      status: 402,
      countable: false,
      billable: false,
      billedAtomic: "0",
    }),
  ];
  for (const slug of [cheap, popular, free]) {
    const mine = events.filter((e) => e.apiId === slug);
    const r = await leaderboardFor(env, slug).ingest(mine);
    expect(r).toEqual({ accepted: mine.length, duplicates: 0, rejected: 0 });
  }
  const reg = await call("/v1/wallets", {
    method: "POST",
    headers: { ...auth(creator.key), "content-type": "application/json" },
    body: JSON.stringify({ address: creatorWallet.toUpperCase().replace("0X", "0x") }),
  });
  expect(reg.status).toBe(201);
  await rollup();
});

describe("public read API", () => {
  it("GET /v1/leaderboard ranks from the snapshot with CORS, ETag and Cache-Control", async () => {
    const { res, body } = await getJson(`/v1/leaderboard?window=overall&directory=${directory}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("cache-control")).toBe("public, max-age=60");
    expect(res.headers.get("etag")).toMatch(/^"[0-9a-f]{32}"$/);
    expect(body.window).toBe("overall");
    expect(body.items.map((e: any) => e.slug)).toEqual([popular]);
    expect(body.emerging.map((e: any) => e.slug)).toEqual([cheap]);
    const top = body.items[0];
    expect(top.rank).toBeGreaterThanOrEqual(1);
    expect(top.url).toBe(`http://localhost/t/${popular}/`);
    expect(top.metrics.calls).toBe(24); // the creator's 55 self-paid calls are not counted
    expect(top.metrics.selfDealtCalls).toBe(55);
    expect(top.metrics.payers).toBe(8);
    expect(top.metrics.revenueAtomic).toBe("48000");
    expect(body.totals).toEqual({ ranked: 1, emerging: 1 });
  });

  it("If-None-Match → 304 until the snapshot changes; a new rollup with new data changes the ETag", async () => {
    const path = `/v1/leaderboard?window=overall&directory=${directory}&top=5`;
    const first = await call(path);
    const etag = first.headers.get("etag")!;
    const again = await call(path, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    expect(again.headers.get("access-control-allow-origin")).toBe("*");
    // another query on the same snapshot has another ETag
    expect((await call(`${path}&q=weather`)).headers.get("etag")).not.toBe(etag);
    await leaderboardFor(env, free).ingest([
      ev(free, creator.id, "ip:late", Date.now() - 1000, {
        lifecycle: "served",
        billable: false,
        billedAtomic: "0",
        priceAtomic: "0",
      }),
    ]);
    await rollup();
    const after = await call(path, { headers: { "if-none-match": etag } });
    expect(after.status).toBe(200);
    expect(after.headers.get("etag")).not.toBe(etag);
  });

  it("a rollup with nothing new writes nothing and keeps the version", async () => {
    const a = await rollup();
    const b = await rollup();
    expect(b.changed).toBe(false);
    expect(b.version).toBe(a.version);
  });

  it("q filters by text, top limits, the rank stays global", async () => {
    const { body } = await getJson(`/v1/leaderboard?window=overall&q=WEATHER&top=1`);
    expect(body.items.map((e: any) => e.slug)).toContain(popular);
    expect(body.items).toHaveLength(1);
    const { body: all } = await getJson(`/v1/leaderboard?window=overall&top=100`);
    const global = all.items.find((e: any) => e.slug === popular);
    expect(body.items[0].rank).toBe(global.rank);
  });

  it("GET /v1/apis/:slug: metrics per window, every score factor, how to call; $0.001 × 3 shows non-zero revenue", async () => {
    const { res, body } = await getJson(`/v1/apis/${cheap}`);
    expect(res.status).toBe(200);
    const api = body.api;
    expect(api.price).toEqual({ atomic: "1000", usd: "$0.001", decimals: 6 });
    expect(api.windows.overall.metrics.calls).toBe(3);
    expect(api.windows.overall.metrics.revenueAtomic).toBe("3000");
    expect(api.windows.overall.metrics.revenueUsd).toBe("$0.003");
    expect(api.windows.today.metrics.revenueUsd).toBe("$0.003");
    expect(api.windows.overall.metrics.challenges).toBe(1);
    expect(api.call.url).toBe(`http://localhost/t/${cheap}/`);
    expect(api.call.payment).toBe("x402");
    expect(api.accepts[0]).toMatchObject({ scheme: "exact", network: "eip155:84532", amount: "1000", payTo });
    const b = (await getJson(`/v1/apis/${popular}`)).body.api.windows.week.breakdown;
    for (const k of [
      "D",
      "Q",
      "C",
      "B",
      "wilson",
      "latencyFactor",
      "topPayerShare",
      "peakHourShare",
      "effectivePayers",
      "weightedPayers",
    ])
      expect(typeof b[k]).toBe("number");
    expect(b.payers.linked).toBe(2);
    expect(b.linkedCalls).toBe(55);
    expect(b.score).toBeCloseTo(b.D * b.Q * b.C * b.B, 3);
  });

  it("GET /v1/directories and /v1/stats: rollups and hero stats", async () => {
    const { body: dirs } = await getJson(`/v1/directories?window=overall`);
    const mine = dirs.items.find((d: any) => d.directory === directory);
    expect(mine).toMatchObject({
      apis: 2,
      rankedApis: 1,
      calls: 27,
      revenueAtomic: "51000",
      revenueUsd: "$0.051",
      activePayers: 11,
      topApis: [popular],
    });
    const { body: stats } = await getJson(`/v1/stats`);
    expect(Object.keys(stats.windows)).toEqual(["today", "week", "overall"]);
    expect(stats.windows.overall.publishedApis).toBeGreaterThanOrEqual(3);
    expect(stats.windows.overall.calls).toBeGreaterThanOrEqual(32);
    expect(BigInt(stats.windows.overall.revenueAtomic)).toBeGreaterThanOrEqual(51000n);
    expect(stats.windows.overall.activePayers).toBeGreaterThanOrEqual(11);
    expect(stats.windows.overall.activeCallers).toBeGreaterThanOrEqual(16);
  });

  it("GET /discovery/resources lists paid APIs in the x402 Bazaar shape", async () => {
    const { body } = await getJson(`/discovery/resources?limit=100`);
    expect(body.x402Version).toBe(2);
    expect(body.pagination).toMatchObject({ limit: 100, offset: 0 });
    const item = body.items.find((i: any) => i.metadata.slug === cheap);
    expect(item).toMatchObject({ resource: `http://localhost/t/${cheap}/`, type: "http", x402Version: 2 });
    expect(item.accepts[0].amount).toBe("1000");
    expect(Date.parse(item.lastUpdated)).toBeGreaterThan(0);
    // The item carries the same bazaar listing as the API's 402 (its first operation).
    expect(item.extensions.bazaar.info.input).toMatchObject({ type: "http", method: "GET" });
    expect(validateDiscoveryExtension(item.extensions.bazaar)).toEqual({ valid: true });
    expect(body.items.some((i: any) => i.metadata.slug === free)).toBe(false);
    expect((await getJson(`/discovery/resources?type=mcp`)).body.items).toEqual([]);
  });

  it("OPTIONS preflight allows any origin", async () => {
    for (const path of [
      "/v1/leaderboard",
      "/v1/apis/x",
      "/v1/stats",
      "/v1/directories",
      "/discovery/resources",
      "/openapi.json",
    ]) {
      const res = await call(path, {
        method: "OPTIONS",
        headers: { origin: "https://directory.example", "access-control-request-method": "GET" },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("access-control-allow-methods")).toContain("GET");
    }
  });

  it("bad query input → 400 JSON with a stable code (and CORS)", async () => {
    const cases: [string, string][] = [
      ["/v1/leaderboard?window=year", "invalid_parameter"],
      ["/v1/leaderboard?top=0", "invalid_parameter"],
      ["/v1/leaderboard?top=10000", "invalid_parameter"],
      ["/v1/leaderboard?top=abc", "invalid_parameter"],
      [`/v1/leaderboard?q=${"x".repeat(101)}`, "invalid_parameter"],
      ["/v1/leaderboard?directory=no-such-directory-here", "unknown_directory"],
      ["/v1/leaderboard?directory=Bad%20Dir!", "unknown_directory"],
      ["/v1/directories?window=month", "invalid_parameter"],
      ["/discovery/resources?limit=0", "invalid_parameter"],
      ["/discovery/resources?offset=-1", "invalid_parameter"],
    ];
    for (const [path, code] of cases) {
      const res = await call(path);
      await expectError(res, 400, code);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
    }
    await expectError(await call("/v1/apis/no-such-api-here"), 404, "api_not_found");
    await expectError(await call("/v1/apis/NO"), 400, "invalid_slug");
  });

  it("every response matches /openapi.json", async () => {
    const { res, body: doc } = await getJson("/openapi.json");
    expect(res.status).toBe(200);
    expect(doc.openapi).toBe("3.1.0");
    const schemaOf = (path: string) => doc.paths[path].get.responses["200"].content["application/json"].schema;
    const probes: [string, string][] = [
      ["/v1/leaderboard", "/v1/leaderboard?window=overall&top=100"],
      ["/v1/leaderboard", "/v1/leaderboard?window=today"],
      ["/v1/apis/{slug}", `/v1/apis/${popular}`],
      ["/v1/apis/{slug}", `/v1/apis/${free}`],
      ["/v1/directories", "/v1/directories?window=week"],
      ["/v1/stats", "/v1/stats"],
      ["/discovery/resources", "/discovery/resources?limit=100"],
    ];
    for (const [template, path] of probes) {
      const { body } = await getJson(path);
      expect(check(schemaOf(template), body, doc), path).toEqual([]);
      // The same body against the valibot schema the document was generated from.
      const name = String(schemaOf(template).$ref).split("/").pop() as keyof typeof COMPONENTS;
      expect(v.safeParse(COMPONENTS[name], body).issues, path).toBeUndefined();
    }
    const { body: err } = await getJson("/v1/leaderboard?window=year");
    expect(check({ $ref: "#/components/schemas/Error" }, err, doc)).toEqual([]);
    expect(v.is(COMPONENTS.Error, err)).toBe(true);
    const { body: wallets } = await getJson("/v1/wallets", { headers: auth(creator.key) });
    expect(
      check(doc.paths["/v1/wallets"].get.responses["200"].content["application/json"].schema, wallets, doc),
    ).toEqual([]);
    const rolled = await (await call("/__platform/rollup", { method: "POST", headers: OPERATOR })).json();
    expect(check({ $ref: "#/components/schemas/RollupResult" }, rolled, doc)).toEqual([]);
    expect(v.is(COMPONENTS.RollupResult, rolled)).toBe(true);
    expect(v.is(COMPONENTS.WalletList, wallets)).toBe(true);
  });
});

describe("operator routes", () => {
  it("POST /__platform/rollup and GET /__platform/events require the operator token", async () => {
    await expectError(await call("/__platform/rollup", { method: "POST" }), 401, "unauthorized");
    await expectError(await call("/__platform/events", { headers: auth(creator.key) }), 401, "unauthorized");
  });

  it("GET /__platform/events shows the newest ingested events and ingest counters", async () => {
    // Raw events come from the call telemetry (docs/ARCHITECTURE.md §14): calls through the dispatcher.
    for (let i = 0; i < 4; i++) expect((await call(`/t/${free}/v1/records`)).status).toBe(200);
    for (let tries = 0; tries < 50; tries++) {
      const seen = await getJson(`/__platform/events?api=${free}&limit=4`, { headers: OPERATOR });
      if (seen.body.items.length === 4) break;
      await new Promise((r) => setTimeout(r, 40));
    }
    const { res, body } = await getJson(`/__platform/events?api=${free}&limit=3`, { headers: OPERATOR });
    expect(res.status).toBe(200);
    expect(body.items).toHaveLength(3);
    expect(body.items.every((e: UsageEvent) => e.apiId === free)).toBe(true);
    expect(body.items[0].ts).toBeGreaterThanOrEqual(body.items[2].ts);
    expect(body.shards[0].counters.accepted).toBeGreaterThan(0);
    await expectError(await call("/__platform/events?limit=0", { headers: OPERATOR }), 400, "invalid_parameter");
  });
});

describe("creator wallets", () => {
  it("register (idempotent, lowercase), list, delete; scopes enforced", async () => {
    const h = { ...auth(creator.key), "content-type": "application/json" };
    const w = addr("extra", 7);
    const created = await call("/v1/wallets", { method: "POST", headers: h, body: JSON.stringify({ address: w }) });
    expect(created.status).toBe(201);
    const again = await call("/v1/wallets", { method: "POST", headers: h, body: JSON.stringify({ address: w }) });
    expect(again.status).toBe(200);
    const list = (await (await call("/v1/wallets", { headers: auth(creator.key) })).json()) as any;
    expect(list.wallets.map((x: any) => x.address)).toEqual(expect.arrayContaining([w, creatorWallet]));
    await expectError(
      await call("/v1/wallets", { method: "POST", headers: h, body: JSON.stringify({ address: "0x123" }) }),
      400,
      "invalid_request",
    );
    expect((await call(`/v1/wallets/${w}`, { method: "DELETE", headers: auth(creator.key) })).status).toBe(200);
    await expectError(
      await call(`/v1/wallets/${w}`, { method: "DELETE", headers: auth(creator.key) }),
      404,
      "wallet_not_found",
    );
    await expectError(
      await call(`/v1/wallets/nope`, { method: "DELETE", headers: auth(creator.key) }),
      400,
      "invalid_address",
    );
    await expectError(
      await call(`/v1/wallets/%E0%A4%A`, { method: "DELETE", headers: auth(creator.key) }),
      400,
      "invalid_address",
    );
    const reader = await createCreator("Reader", ["tenants:read"]);
    await expectError(
      await call("/v1/wallets", {
        method: "POST",
        headers: { ...auth(reader.key), "content-type": "application/json" },
        body: JSON.stringify({ address: w }),
      }),
      403,
      "insufficient_scope",
    );
    expect((await call("/v1/wallets", { headers: auth(reader.key) })).status).toBe(200);
    await expectError(await call("/v1/wallets"), 401, "unauthorized");
    const audit = await env.DB.prepare(
      "SELECT action FROM audit_log WHERE subject = ? AND action LIKE 'wallet.%' ORDER BY id",
    )
      .bind(creator.id)
      .all<{ action: string }>();
    expect(audit.results.map((r) => r.action)).toEqual(["wallet.add", "wallet.add", "wallet.delete"]);
  });

  it("a registered wallet stops counting at the next rollup, and counts again once deleted", async () => {
    const slug = uniqueSlug("linked");
    const other = await createCreator("Linked Creator");
    await deployOk(other.key, slug, CITIES_CSV, { config: { priceUsd: 0.001, payTo: addr("lpay", 1) } });
    const fans = Array.from({ length: 6 }, (_, i) => addr("lfan", i));
    await leaderboardFor(env, slug).ingest(fans.map((f) => ev(slug, other.id, f, Date.now() - 2 * DAY)));
    await rollup();
    expect((await getJson(`/v1/apis/${slug}`)).body.api.windows.overall.metrics.payers).toBe(6);
    const h = { ...auth(other.key), "content-type": "application/json" };
    await call("/v1/wallets", { method: "POST", headers: h, body: JSON.stringify({ address: fans[0] }) });
    await rollup();
    const m = (await getJson(`/v1/apis/${slug}`)).body.api.windows.overall.metrics;
    expect(m.payers).toBe(5);
    expect(m.selfDealtCalls).toBe(1);
    await call(`/v1/wallets/${fans[0]}`, { method: "DELETE", headers: auth(other.key) });
    await rollup();
    expect((await getJson(`/v1/apis/${slug}`)).body.api.windows.overall.metrics.payers).toBe(6);
  });
});
