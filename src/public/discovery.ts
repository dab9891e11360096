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
import type { PlatformContext } from "../control/context.ts";
import type { ApiDetail } from "../../objects/leaderboard/snapshot-types.ts";
import { snapshotJson } from "./http.ts";
import { DISCOVERY_QUERY, parseQuery } from "./query.ts";
import { readDiscoverable } from "../../objects/leaderboard/snapshot-store.ts";

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
  const { type, limit, offset } = parseQuery(url.searchParams, DISCOVERY_QUERY);
  return snapshotJson(request, pc, async () => {
    const onlyOther = type !== null && type !== "http";
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
