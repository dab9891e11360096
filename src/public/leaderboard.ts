// Public read endpoints over the leaderboard snapshot (docs/ARCHITECTURE.md §8), all CORS-open
// and cacheable (the snapshot is written by the Leaderboard's rollup, objects/leaderboard/):
//   GET /v1/leaderboard?window=today|week|overall&top=1..100&directory=&q=  (query.ts)
//   GET /v1/apis/:slug          metrics per window + the full score breakdown + how to call it
//   GET /v1/directories?window= directory rollups
//   GET /v1/stats               hero stats for every window
// Bodies are stored with tenant paths; absolute URLs are added here from the request's origin.
import type { IRequest } from "itty-router";
import { ApiError } from "../http/errors.ts";
import { slugParam } from "../control/tenants.ts";
import type { PlatformContext } from "../control/context.ts";
import type { ApiDetail, HeroStats, LeaderboardEntry } from "../../objects/leaderboard/snapshot-types.ts";
import { WINDOWS, type WindowName } from "../../objects/leaderboard/windows.ts";
import { asOfIso, snapshotJson } from "./http.ts";
import { DIRECTORIES_QUERY, LEADERBOARD_QUERY, parseQuery } from "./query.ts";
import { readApi, readDirectories, readLeaderboard, readStats } from "../../objects/leaderboard/snapshot-store.ts";

function withUrl(entry: LeaderboardEntry, origin: string) {
  return { ...entry, url: `${origin}${entry.path}`, detailsUrl: `${origin}/v1/apis/${entry.slug}` };
}

export async function getLeaderboard(request: IRequest, pc: PlatformContext): Promise<Response> {
  const url = new URL(request.url);
  const { window, top, directory, q } = parseQuery(url.searchParams, LEADERBOARD_QUERY);
  return snapshotJson(request, pc, async () => {
    const read = await readLeaderboard(pc.env.DB, { window, top, directory, q });
    if (!read.directoryKnown)
      throw new ApiError(400, "unknown_directory", `no directory '${directory}'; see /v1/directories`, {
        parameter: "directory",
      });
    return {
      meta: read.meta,
      body: {
        window,
        asOf: asOfIso(read.meta),
        version: read.meta?.version ?? 0,
        filters: { directory, q },
        top,
        items: read.ranked.map((e) => withUrl(e, url.origin)),
        emerging: read.emerging.map((e) => withUrl(e, url.origin)),
        totals: read.totals,
      },
    };
  });
}

export function howToCall(api: ApiDetail, origin: string) {
  return {
    url: `${origin}${api.path}`,
    hosts: api.hosts.map((h) => `https://${h}/`),
    payment: api.paid ? "x402" : "none",
    price: api.price,
    instructions: api.paid
      ? `Send the request; answer the 402 by paying ${api.price.usd} per call with an x402 client (PAYMENT-SIGNATURE header), then retry.`
      : "Free: send the request as is.",
  };
}

export async function getApi(request: IRequest, pc: PlatformContext): Promise<Response> {
  const slug = slugParam(request);
  const origin = new URL(request.url).origin;
  return snapshotJson(request, pc, async () => {
    const { meta, api } = await readApi(pc.env.DB, slug);
    if (!api)
      throw new ApiError(
        404,
        "api_not_found",
        `no published API '${slug}' in the leaderboard (new APIs appear after the next rollup)`,
      );
    return {
      meta,
      body: { asOf: asOfIso(meta), version: meta?.version ?? 0, api: { ...api, call: howToCall(api, origin) } },
    };
  });
}

export async function getDirectories(request: IRequest, pc: PlatformContext): Promise<Response> {
  const { window } = parseQuery(new URL(request.url).searchParams, DIRECTORIES_QUERY);
  return snapshotJson(request, pc, async () => {
    const { meta, items } = await readDirectories(pc.env.DB, window);
    return { meta, body: { window, asOf: asOfIso(meta), version: meta?.version ?? 0, items } };
  });
}

export function emptyStats(): HeroStats {
  return {
    publishedApis: 0,
    directories: 0,
    rankedApis: 0,
    emergingApis: 0,
    activePayers: 0,
    activeCallers: 0,
    calls: 0,
    revenueAtomic: "0",
    revenueUsd: "$0.00",
  };
}

export async function getStats(request: IRequest, pc: PlatformContext): Promise<Response> {
  return snapshotJson(request, pc, async () => {
    const { meta, windows } = await readStats(pc.env.DB);
    const all = Object.fromEntries(WINDOWS.map((w) => [w, windows[w] ?? emptyStats()])) as Record<
      WindowName,
      HeroStats
    >;
    return { meta, body: { asOf: asOfIso(meta), version: meta?.version ?? 0, windows: all } };
  });
}
