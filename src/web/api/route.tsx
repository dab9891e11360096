/** @jsxImportSource hono/jsx */
// GET /apis/:slug?window=: the API page. 404 api_not_found like GET /v1/apis/:slug.
import type { IRequest } from "itty-router";
import { ApiError } from "../../http/errors.ts";
import type { PlatformContext } from "../../control/context.ts";
import { slugParam } from "../../control/tenants.ts";
import { windowParam } from "../../public/http.ts";
import { page } from "../html.ts";
import { rollupPeriodSeconds } from "../../../objects/leaderboard/shards.ts";
import { readApiPage } from "./data.ts";
import { ApiPage } from "./page.tsx";

export async function apiPage(request: IRequest, pc: PlatformContext): Promise<Response> {
  const slug = slugParam(request);
  const url = new URL(request.url);
  const window = windowParam(url.searchParams);
  const data = await readApiPage(pc.env, slug, window, pc.now);
  if (!data.api)
    throw new ApiError(404, "api_not_found", `no published API '${slug}' (new APIs appear after the next rollup)`);
  return page(
    <ApiPage
      api={data.api}
      meta={data.meta}
      window={window}
      series={data.series}
      origin={url.origin}
      prices={data.prices}
    />,
    {
      cache: { maxAge: data.meta?.periodSeconds ?? rollupPeriodSeconds(pc.env) },
    },
  );
}
