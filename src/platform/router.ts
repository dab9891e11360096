// Route table of the platform host(s). Handlers live with their domain (control/, platform/);
// this file only maps method + path to them.
import { Router, type IRequest } from "itty-router";
import { ApiError } from "../http/errors.ts";
import { json } from "../http/json.ts";
import type { PlatformContext } from "../control/context.ts";
import {
  createCreator,
  createOwnKey,
  listCreators,
  listOwnKeys,
  operatorCreateKey,
  revokeOwnKey,
  whoAmI,
} from "../control/keys.ts";
import { deleteTenant, getTenant, listTenants, patchTenant } from "../control/tenants.ts";
import { deployTenant } from "../control/deployments.ts";
import { publishTenant } from "../control/publish.ts";
import { tenantEarnings } from "../control/earnings.ts";
import { getApi, getDirectories, getLeaderboard, getStats } from "../public/leaderboard.ts";
import { listDiscoveryResources } from "../public/discovery.ts";
import { getDiscoveryReadiness } from "../discovery/readiness-http.ts";
import {
  getApiMarkdown,
  getLlmsTxt,
  getPlatformOpenApi,
  getPlatformWellKnown,
  wantsMarkdown,
} from "../discovery/http.ts";
import { preflight, publicRoute } from "../public/http.ts";
import { addWallet, deleteWallet, listWallets } from "../public/wallets.ts";
import { forceRollup, listEvents } from "../public/operator.ts";
import { listHeldPayments, resolveHeldPayment } from "../public/operator-payments.ts";
import { webRoutes } from "../web/routes.ts";
import { platformMcp } from "../mcp/platform-server.ts";
import { getServerCard } from "../mcp/server-card.ts";
import { getPlatformInfo } from "./info.ts";
import { RECEIPT_KEYS_PATH } from "../receipts/document.ts";
import { receiptKeysResponse } from "../receipts/http.ts";

type Handler = (request: IRequest, pc: PlatformContext) => Promise<Response> | Response;

// /v1/apis/:slug.md, or Accept: text/markdown, is the API's markdown twin (docs/ARCHITECTURE.md §11).
const apiOrMarkdown: Handler = (request, pc) =>
  wantsMarkdown(request) ? getApiMarkdown(request, pc) : getApi(request, pc);

// The published receipt signing keys (src/receipts/document.ts).
const receiptKeys: Handler = (request, pc) => receiptKeysResponse(request, pc.config);

const health: Handler = (_request, pc) => json({ ok: true, service: "402claw", time: new Date(pc.now).toISOString() });

export const platformRouter = Router<IRequest, [PlatformContext]>()
  .get("/health", health)
  // Operator
  .post("/__platform/creators", createCreator)
  .get("/__platform/creators", listCreators)
  .post("/__platform/creators/:id/keys", operatorCreateKey)
  .post("/__platform/rollup", forceRollup)
  .get("/__platform/events", listEvents)
  .get("/__platform/tenants/:slug/held-payments", listHeldPayments)
  .post("/__platform/tenants/:slug/held-payments/:id/resolve", resolveHeldPayment)
  // Public (CORS, cacheable snapshot reads)
  .get("/v1/leaderboard", publicRoute(getLeaderboard))
  .get("/v1/apis/:slug", publicRoute(apiOrMarkdown))
  .get("/v1/directories", publicRoute(getDirectories))
  .get("/v1/stats", publicRoute(getStats))
  .get("/discovery/resources", publicRoute(listDiscoveryResources))
  .get("/openapi.json", publicRoute(getPlatformOpenApi))
  .get("/.well-known/x402", publicRoute(getPlatformWellKnown))
  .get("/llms.txt", publicRoute(getLlmsTxt))
  .get("/.well-known/mcp/server-card.json", publicRoute(getServerCard))
  .get(RECEIPT_KEYS_PATH, publicRoute(receiptKeys))
  // MCP (docs/ARCHITECTURE.md §12): stateless Streamable HTTP, POST only (other methods answer 405).
  .all("/mcp", platformMcp)
  .get("/v1/platform", publicRoute(getPlatformInfo))
  .options("/v1/leaderboard", preflight)
  .options("/v1/apis/:slug", preflight)
  .options("/v1/directories", preflight)
  .options("/v1/stats", preflight)
  .options("/discovery/resources", preflight)
  .options("/openapi.json", preflight)
  .options("/.well-known/x402", preflight)
  .options("/llms.txt", preflight)
  .options(RECEIPT_KEYS_PATH, preflight)
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
  .post("/v1/tenants/:slug/publish", publishTenant)
  .get("/v1/tenants/:slug/earnings", tenantEarnings)
  .get("/v1/tenants/:slug/discovery", getDiscoveryReadiness)
  .get("/v1/wallets", listWallets)
  .post("/v1/wallets", addWallet)
  .delete("/v1/wallets/:address", deleteWallet)
  // Web pages (HTML; src/web/)
  .get("/", webRoutes.explore)
  .get("/explore", webRoutes.explore)
  .get("/apis/:slug", webRoutes.api)
  .get("/dashboard", webRoutes.dashboard)
  .post("/dashboard/login", webRoutes.login)
  .post("/dashboard/logout", webRoutes.logout)
  .get("/assets/:name", webRoutes.asset)
  .all("*", (request: IRequest) => {
    throw new ApiError(404, "route_not_found", `no route for ${request.method} ${new URL(request.url).pathname}`);
  }) as ReturnType<typeof Router<IRequest, [PlatformContext]>>;

export type { Handler };
