/** @jsxImportSource hono/jsx */
// GET /explore and GET / (platform hosts): parses the query like the JSON API does (same codes),
// renders from the snapshot, and keeps the HTML per snapshot version.
import type { IRequest } from "itty-router";
import { ApiError } from "../../http/errors.ts";
import type { PlatformContext } from "../../control/context.ts";
import { directoryParam, requestKey, textParam, windowParam } from "../../public/http.ts";
import { readMeta } from "../../../objects/leaderboard/snapshot-store.ts";
import { rollupCoordinator, rollupPeriodSeconds } from "../../../objects/leaderboard/shards.ts";
import { cachedPage, rememberPage } from "../cache.ts";
import { htmlResponse, renderToHtml } from "../html.ts";
import { readExplore } from "./data.ts";
import { ExplorePage } from "./page.tsx";

export async function explorePage(request: IRequest, pc: PlatformContext): Promise<Response> {
  const url = new URL(request.url);
  const query = {
    window: windowParam(url.searchParams),
    q: textParam(url.searchParams, "q"),
    directory: directoryParam(url.searchParams),
  };
  const meta = await readMeta(pc.env.DB);
  // Like the JSON API: a read before the first snapshot starts the rollup coordinator.
  if (!meta)
    pc.ctx.waitUntil(
      rollupCoordinator(pc.env)
        .kick()
        .catch(() => undefined),
    );
  const maxAge = meta?.periodSeconds ?? rollupPeriodSeconds(pc.env);
  const key = `explore|${meta?.version ?? 0}|${requestKey(url)}`;
  let html = cachedPage(key);
  if (html === undefined) {
    const data = await readExplore(pc.env.DB, query);
    if (!data.directoryKnown)
      throw new ApiError(
        400,
        "unknown_directory",
        `no directory '${query.directory}'; see the directory cards on /explore`,
        { parameter: "directory" },
      );
    html = await renderToHtml(<ExplorePage data={data} query={query} />);
    // Cached under the version the page was read at, so a rollup in between cannot mislabel it.
    rememberPage(`explore|${data.meta?.version ?? 0}|${requestKey(url)}`, html);
  }
  return htmlResponse(html, { cache: { maxAge }, status: 200 });
}
