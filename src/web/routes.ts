// The web pages' handlers, as the platform router mounts them (docs/ARCHITECTURE.md §13). Page
// handlers answer errors as HTML (webRoute); assets are plain files.
import { webRoute } from "./error-page.tsx";
import { explorePage } from "./explore/route.tsx";
import { apiPage } from "./api/route.tsx";
import { dashboardPage, login, logout } from "./dashboard/route.tsx";
import { serveAsset } from "./assets.ts";

export const webRoutes = {
  explore: webRoute(explorePage),
  api: webRoute(apiPage),
  dashboard: webRoute(dashboardPage),
  login: webRoute(login),
  logout: webRoute(logout),
  asset: serveAsset,
};
