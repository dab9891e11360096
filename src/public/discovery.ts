// GET /discovery/resources?type&limit&offset: the published paid APIs in the x402 Bazaar list
// shape (docs/ARCHITECTURE.md §6), so any Bazaar client can discover them:
//   {x402Version: 2, items: [{resource, type: "http", x402Version, accepts, lastUpdated, ...}],
//    pagination: {limit, offset, total}}
// Ordered like the overall leaderboard (ranked first). Free APIs are not x402 resources and are
// not listed; `type` other than "http" matches nothing (every 402claw API is HTTP). Each item's
// `extensions.bazaar` is the listing of the API's first operation, as its 402 carries it (§11).
import type { TenantConfig } from "../config/tenant-config.ts";
import { itemExtensions } from "../discovery/bazaar.ts";
import { tenantsBySlug } from "../discovery/catalog-store.ts";
import type { IRequest } from "itty-router";
import { ApiError } from "../http/errors.ts";
import type { PlatformContext } from "../control/context.ts";
import type { ApiDetail } from "../../objects/leaderboard/snapshot-types.ts";
import { intParam, snapshotJson } from "./http.ts";
import { readDiscoverable } from "../../objects/leaderboard/snapshot-store.ts";

export const DISCOVERY_MAX_LIMIT = 100;

function item(api: ApiDetail, origin: string, config: TenantConfig | undefined) {
  const overall = api.windows.overall;
  return {
    resource: `${origin}${api.path}`,
    type: "http",
    x402Version: 2,
    accepts: api.accepts,
    lastUpdated: api.lastUpdated,
    description: api.description || `${api.slug} on 402claw`,
    mimeType: "application/json",
    serviceName: "402claw",
    tags: [api.directory],
    metadata: {
      slug: api.slug,
      directory: api.directory,
      rank: overall.rank,
      status: overall.status,
      score: overall.score,
      details: `${origin}/v1/apis/${api.slug}`,
    },
    extensions: config ? itemExtensions(config) : {},
  };
}

export async function listDiscoveryResources(request: IRequest, pc: PlatformContext): Promise<Response> {
  const url = new URL(request.url);
  const params = url.searchParams;
  const type = params.get("type");
  if (type !== null && type !== "" && !/^[a-z][a-z0-9-]{0,19}$/.test(type)) {
    throw new ApiError(400, "invalid_parameter", "type: a lowercase protocol name such as 'http'", {
      parameter: "type",
    });
  }
  const limit = intParam(params, "limit", { min: 1, max: DISCOVERY_MAX_LIMIT, fallback: 20 });
  const offset = intParam(params, "offset", { min: 0, max: 1_000_000, fallback: 0 });
  return snapshotJson(request, pc, async () => {
    const onlyOther = type !== null && type !== "" && type !== "http";
    const { meta, items, total } = await readDiscoverable(pc.env.DB, onlyOther ? 0 : limit, offset);
    const configs = await tenantsBySlug(
      pc.env.DB,
      items.map((a) => a.slug),
    );
    return {
      meta,
      body: {
        x402Version: 2,
        items: onlyOther ? [] : items.map((a) => item(a, url.origin, configs.get(a.slug))),
        pagination: { limit, offset, total: onlyOther ? 0 : total },
      },
    };
  });
}
