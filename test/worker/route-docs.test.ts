// The route documentation table (src/public/route-docs.ts) against the real router: every GET
// route that answers without credentials is documented (there or in the discovery routes'
// table), every documented method + path is routed, and the `auth` column tells the truth
// (a bearer route refuses an anonymous call with 401, a public one does not).
import { describe, expect, it } from "vitest";
import { platformRouter } from "../../src/platform/router.ts";
import { webRoutes } from "../../src/web/routes.ts";
import { ROUTE_DOCS } from "../../src/public/route-docs.ts";
import { DISCOVERY_ROUTES } from "../../src/discovery/routes-doc.ts";
import { OPENAPI } from "../../src/public/openapi.ts";
import { call } from "./helpers.ts";

type Entry = [string, RegExp, unknown[], string];
const webHandlers = new Set<unknown>(Object.values(webRoutes));
/** Method + OpenAPI path of every API route of the router (web pages and the 404 catch-all aside). */
const routed = (platformRouter.routes as unknown as Entry[])
  .filter(([method, , handlers]) => method !== "ALL" && !handlers.some((h) => webHandlers.has(h)))
  .map(([method, , , path]) => ({ method: method.toLowerCase(), path: path.replace(/:(\w+)/g, "{$1}") }));
const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
const documented = new Set([...ROUTE_DOCS.map(key), ...Object.keys(DISCOVERY_ROUTES).map((p) => `get ${p}`)]);
const SAMPLE: Record<string, string> = { slug: "no-such-api-here", id: "x", address: `0x${"0".repeat(40)}` };
const concrete = (path: string) => path.replace(/\{(\w+)\}/g, (_, n: string) => SAMPLE[n] ?? "x");

describe("route documentation table", () => {
  it("every documented method + path is a route of the router, once", () => {
    const routes = new Set(routed.map(key));
    for (const doc of ROUTE_DOCS) expect(routes.has(key(doc)), key(doc)).toBe(true);
    expect(new Set(ROUTE_DOCS.map(key)).size).toBe(ROUTE_DOCS.length);
  });

  it("every GET route that answers without credentials is documented", async () => {
    const undocumented = routed.filter((r) => r.method === "get" && !documented.has(key(r)));
    expect(undocumented.length).toBeGreaterThan(0); // the creator and operator reads
    for (const r of undocumented) {
      const res = await call(concrete(r.path));
      expect(res.status, `${key(r)} is public but not in src/public/route-docs.ts`).toBe(401);
    }
  });

  it("the auth column matches what an anonymous GET gets", async () => {
    for (const doc of ROUTE_DOCS.filter((d) => d.method === "get")) {
      const res = await call(concrete(doc.path));
      if (doc.auth === "bearer") expect(res.status, key(doc)).toBe(401);
      else expect(res.status, key(doc)).not.toBe(401);
    }
  });

  it("the generated document has exactly the table's operations, with its query parameters", () => {
    const ops = Object.entries(OPENAPI.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m} ${path}`),
    );
    expect(ops.sort()).toEqual(ROUTE_DOCS.map(key).sort());
    const board = OPENAPI.paths["/v1/leaderboard"]!.get as { parameters: { name: string; schema: object }[] };
    expect(board.parameters.map((p) => p.name)).toEqual(["window", "top", "directory", "q"]);
    expect(board.parameters[1]!.schema).toEqual({ type: "integer", minimum: 1, maximum: 100, default: 20 });
  });
});
