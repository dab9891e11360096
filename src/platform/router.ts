// Route table of the platform host(s). Handlers live with their domain (control/, platform/);
// this file only maps method + path to them.
import { Router, type IRequest } from "itty-router";
import { ApiError } from "../http/errors.ts";
import { json } from "../http/json.ts";
import type { PlatformContext } from "../control/context.ts";
import { createCreator, createOwnKey, listCreators, listOwnKeys, operatorCreateKey, revokeOwnKey, whoAmI } from "../control/keys.ts";
import { deleteTenant, getTenant, listTenants, patchTenant } from "../control/tenants.ts";
import { deployTenant } from "../control/deployments.ts";
import { tenantEarnings } from "../control/earnings.ts";

type Handler = (request: IRequest, pc: PlatformContext) => Promise<Response> | Response;

const health: Handler = (_request, pc) => json({ ok: true, service: "402claw", time: new Date(pc.now).toISOString() });

export const platformRouter = Router<IRequest, [PlatformContext]>()
  .get("/health", health)
  // Operator
  .post("/__platform/creators", createCreator)
  .get("/__platform/creators", listCreators)
  .post("/__platform/creators/:id/keys", operatorCreateKey)
  // Creator (API key)
  .get("/v1/me", whoAmI)
  .get("/v1/keys", listOwnKeys)
  .post("/v1/keys", createOwnKey)
  .delete("/v1/keys/:id", revokeOwnKey)
  .get("/v1/tenants", listTenants)
  .get("/v1/tenants/:slug", getTenant)
  .patch("/v1/tenants/:slug", patchTenant)
  .delete("/v1/tenants/:slug", deleteTenant)
  .post("/v1/tenants/:slug/deployments", deployTenant)
  .get("/v1/tenants/:slug/earnings", tenantEarnings)
  .all("*", (request: IRequest) => {
    throw new ApiError(404, "route_not_found", `no route for ${request.method} ${new URL(request.url).pathname}`);
  }) as ReturnType<typeof Router<IRequest, [PlatformContext]>>;

export type { Handler };
