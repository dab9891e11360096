/** @jsxImportSource hono/jsx */
// GET /explore and GET / (platform hosts): parses the query like the JSON API does (same codes),
// renders from the snapshot, and keeps the HTML and its ETag per snapshot version, so a hot page
// is served from memory (the version is kept for a second, src/public/snapshot-meta.ts) and a
// conditional GET of an unchanged page is a 304.
import type { IRequest } from "itty-router";
import { ApiError } from "../../http/errors.ts";
import type { PlatformContext } from "../../control/context.ts";
import { directoryParam, etagMatches, requestKey, textParam, windowParam } from "../../public/http.ts";
import { snapshotMeta } from "../../public/snapshot-meta.ts";
import { sha256Hex } from "../../../objects/leaderboard/snapshot-store.ts";
import { rollupCoordinator, rollupPeriodSeconds } from "../../../objects/leaderboard/shards.ts";
import { cachedPage, rememberPage, type CachedPage } from "../cache.ts";
import { htmlResponse, notModified, renderToHtml } from "../html.ts";
import { readExplore, type ExploreQuery } from "./data.ts";
import { ExplorePage } from "./page.tsx";

async function renderExplore(pc: PlatformContext, query: ExploreQuery, url: URL): Promise<CachedPage> {
  const data = await readExplore(pc.env.DB, query);
  if (!data.directoryKnown)
    throw new ApiError(
      400,
      "unknown_directory",
      `no directory '${query.directory}'; see the directory cards on /explore`,
      { parameter: "directory" },
    );
  const html = await renderToHtml(<ExplorePage data={data} query={query} />);
  const page = { html, etag: `"${(await sha256Hex(html)).slice(0, 32)}"` };
  // Cached under the version the page was read at, so a rollup in between cannot mislabel it.
  rememberPage(`explore|${data.meta?.version ?? 0}|${requestKey(url)}`, page);
  return page;
}

export async function explorePage(request: IRequest, pc: PlatformContext): Promise<Response> {
  const url = new URL(request.url);
  const query = {
    window: windowParam(url.searchParams),
    q: textParam(url.searchParams, "q"),
    directory: directoryParam(url.searchParams),
  };
  const meta = await snapshotMeta(pc.env.DB, pc.now);
  // Like the JSON API: a read before the first snapshot starts the rollup coordinator.
  if (!meta)
    pc.ctx.waitUntil(
      rollupCoordinator(pc.env)
        .kick()
        .catch(() => undefined),
    );
  const maxAge = meta?.periodSeconds ?? rollupPeriodSeconds(pc.env);
  const page = cachedPage(`explore|${meta?.version ?? 0}|${requestKey(url)}`) ?? (await renderExplore(pc, query, url));
  if (etagMatches(request.headers.get("if-none-match"), page.etag)) return notModified(page.etag, maxAge);
  return htmlResponse(page.html, { cache: { maxAge }, status: 200, headers: { etag: page.etag } });
}
