// GET /v1/tenants/:slug/discovery (creator key, tenants:read): the readiness checklist of one of
// the caller's APIs and where its discovery documents are (docs/ARCHITECTURE.md §11).
import type { IRequest } from "itty-router";
import type { PlatformContext } from "../control/context.ts";
import { requireCreator } from "../control/auth.ts";
import { ownedTenant, slugParam } from "../control/tenants.ts";
import { json } from "../http/json.ts";
import { creatorName } from "./catalog-store.ts";
import { describeTenant } from "./describe.ts";
import { readiness } from "./readiness.ts";

export async function getDiscoveryReadiness(request: IRequest, pc: PlatformContext): Promise<Response> {
  const principal = await requireCreator(request, pc.env, pc.ctx, "tenants:read");
  const config = await ownedTenant(pc, principal.creatorId, slugParam(request));
  const name = await creatorName(pc.env.DB, config.owner);
  const d = describeTenant(config, name ? { name } : undefined);
  const origin = new URL(request.url).origin;
  return json({
    slug: config.slug,
    version: config.version,
    ...readiness(d, config.description),
    operations: d.operations.map((op) => ({ method: op.method, path: op.path, declared: op.declared })),
    documents: {
      openapi: `${origin}/t/${config.slug}/openapi.json`,
      wellKnown: `${origin}/t/${config.slug}/.well-known/x402`,
      markdown: `${origin}/v1/apis/${config.slug}.md`,
      platformOpenapi: `${origin}/openapi.json`,
      hosts: config.hosts.map((h) => `https://${h}/openapi.json`),
    },
  });
}
