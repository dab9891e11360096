// /explore served from memory (issue 12): the snapshot version kept per isolate for a second
// (src/public/snapshot-meta.ts), a rollup through this isolate seen at once, and the page's ETag
// answering a conditional GET with 304 until the snapshot changes.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { leaderboardFor, rollupCoordinator } from "../../objects/leaderboard/shards.ts";
import { readMeta } from "../../objects/leaderboard/snapshot-store.ts";
import { forgetSnapshotMeta, META_TTL_MS, snapshotMeta } from "../../src/public/snapshot-meta.ts";
import { call, CITIES_CSV, createCreator, deployOk, OPERATOR, uniqueSlug } from "./helpers.ts";
import { usageEvent } from "../support/usage-events.ts";

let creator: { id: string; key: string };
let slug: string;
let payers = 0;

/** New paid usage of the test API, so the next rollup writes a new snapshot version. */
async function traffic(): Promise<void> {
  payers += 1;
  const caller = `0x${String(payers).padStart(40, "0")}`;
  await leaderboardFor(env, slug).ingest([usageEvent({ apiId: slug, owner: creator.id, caller })]);
}

beforeAll(async () => {
  creator = await createCreator("Explore cache");
  slug = uniqueSlug("excache");
  await deployOk(creator.key, slug, CITIES_CSV, { config: { priceUsd: 0.001, payTo: `0x${"9".repeat(40)}` } });
  await traffic();
  expect((await call("/__platform/rollup", { method: "POST", headers: OPERATOR })).status).toBe(200);
});

describe("snapshot version kept per isolate", () => {
  it("answers from memory within the TTL, asks D1 after it, and forgets on demand", async () => {
    forgetSnapshotMeta();
    const t0 = Date.now();
    const first = await snapshotMeta(env.DB, t0);
    expect(first).toEqual(await readMeta(env.DB));
    await traffic();
    await rollupCoordinator(env).rollup(); // not through this isolate's route: nothing is forgotten
    const fresh = await readMeta(env.DB);
    expect(fresh!.version).toBeGreaterThan(first!.version);
    expect(await snapshotMeta(env.DB, t0 + META_TTL_MS - 1)).toEqual(first);
    expect(await snapshotMeta(env.DB, t0 + META_TTL_MS)).toEqual(fresh);
    await traffic();
    await rollupCoordinator(env).rollup();
    expect(await snapshotMeta(env.DB, t0 + META_TTL_MS + 1)).toEqual(fresh);
    forgetSnapshotMeta();
    expect((await snapshotMeta(env.DB, t0 + META_TTL_MS + 2))!.version).toBeGreaterThan(fresh!.version);
  });

  it("keeps the value, never a read in progress another request could await", async () => {
    forgetSnapshotMeta();
    const now = Date.now();
    const reads = Array.from({ length: 5 }, () => snapshotMeta(env.DB, now));
    // Each caller gets its own promise (workerd fails a request awaiting another request's I/O).
    expect(new Set(reads).size).toBe(5);
    const values = await Promise.all(reads);
    for (const v of values) expect(v).toEqual(await readMeta(env.DB));
    // Once read, the kept value answers within the TTL: the same object, no new read.
    const kept = await snapshotMeta(env.DB, now + 1);
    expect(values).toContain(kept);
  });
});

describe("/explore validators", () => {
  it("carries an ETag; a matching If-None-Match is a 304 until a rollup changes the page", async () => {
    const res = await call("/explore?window=week");
    expect(res.status).toBe(200);
    const etag = res.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(await res.text()).toContain(`data-slug="${slug}"`);
    const again = await call("/explore?window=week", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    expect(again.headers.get("cache-control")).toMatch(/^public, max-age=\d+$/);
    expect(await again.text()).toBe("");
    // Another query is another page with its own validator.
    const other = await call("/explore?window=overall", { headers: { "if-none-match": etag } });
    expect(other.status).toBe(200);
    expect(other.headers.get("etag")).not.toBe(etag);

    await traffic();
    expect((await call("/__platform/rollup", { method: "POST", headers: OPERATOR })).status).toBe(200);
    const changed = await call("/explore?window=week", { headers: { "if-none-match": etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect(await changed.text()).toContain(`data-slug="${slug}"`);
  });
});
