// Prices per operation in every discovery document and on the API page, through the real
// dispatcher (docs/ARCHITECTURE.md §11, §13): per-API and platform OpenAPI `x-payment-info`,
// `/.well-known/x402` (paid operations only), the markdown twin, the bazaar listing in the 402,
// the MCP tools of the API, and a redeploy that changes a price changes all of them at once.
import { describe, expect, it } from "vitest";
import { call, CITIES_CSV, createCreator, deployOk, OPERATOR, uniqueSlug } from "./helpers.ts";

const ASSET = { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", name: "USDC", version: "2", decimals: 6 };
const PAY_TO = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const PAID = { priceUsd: 0.005, payTo: PAY_TO, network: "eip155:84532", asset: ASSET };

const amountIn = (doc: any, path: string) => doc.paths[path]?.get?.["x-payment-info"]?.price?.amount;

async function documents(slug: string) {
  const own = await (await call(`/t/${slug}/openapi.json`)).json<any>();
  const platform = await (await call("/openapi.json")).json<any>();
  const wellKnown = (await (await call("/.well-known/x402")).json<any>()).resources as string[];
  const markdown = await (await call(`/v1/apis/${slug}.md`)).text();
  return { own, platform, wellKnown: wellKnown.filter((u) => u.includes(`/t/${slug}/`)), markdown };
}

describe("prices per operation in discovery", () => {
  it("shows each operation's own price, lists only paid ones, and follows a redeploy at once", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("pdisc");
    const prices = { "GET /v1/records": 0.001, "GET /v1/records/{id}": 0.002, "GET /v1/schema": 0 };
    await deployOk(creator.key, slug, CITIES_CSV, { config: { ...PAID, prices } });

    const first = await documents(slug);
    expect(amountIn(first.own, "/v1/records")).toBe("0.001");
    expect(amountIn(first.own, "/v1/records/{id}")).toBe("0.002");
    expect(first.own.paths["/v1/schema"].get["x-payment-info"]).toBeUndefined();
    expect(first.own.paths["/v1/schema"].get.responses["402"]).toBeUndefined();
    expect(first.own.paths["/v1/records"].get.responses["402"]).toBeDefined();
    expect(first.own.info["x-guidance"]).toContain("GET /v1/schema free");
    expect(amountIn(first.platform, `/t/${slug}/v1/records/{id}`)).toBe("0.002");
    expect(first.wellKnown.some((u) => u.includes("/v1/schema"))).toBe(false);
    expect(first.wellKnown.some((u) => u.endsWith("/v1/records"))).toBe(true);
    expect(first.markdown).toMatch(/### `GET \/v1\/records\/\{id\}`[\s\S]*?\*\*Price:\*\* \$0\.002 per call/);
    expect(first.markdown).toMatch(/### `GET \/v1\/schema`[\s\S]*?\*\*Price:\*\* free/);

    // The bazaar listing rides in the 402 of the paid operation, whose accepts ask its price.
    const challenge = await call(`/t/${slug}/v1/records/1`);
    const required = JSON.parse(atob(challenge.headers.get("payment-required")!));
    expect(required.accepts[0].amount).toBe("2000");
    expect(required.extensions.bazaar.info.input.method).toBe("GET");

    // Redeploy with a new price for one operation: every document changes with it.
    await deployOk(creator.key, slug, CITIES_CSV, { config: { prices: { ...prices, "GET /v1/records/{id}": 0.04 } } });
    const second = await documents(slug);
    expect(amountIn(second.own, "/v1/records/{id}")).toBe("0.04");
    expect(amountIn(second.platform, `/t/${slug}/v1/records/{id}`)).toBe("0.04");
    expect(second.markdown).toMatch(/### `GET \/v1\/records\/\{id\}`[\s\S]*?\*\*Price:\*\* \$0\.04 per call/);
    expect(amountIn(second.own, "/v1/records")).toBe("0.001");
  });

  it("the API page lists the live price of each operation", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("ppage");
    const prices = { "GET /v1/schema": 0, "GET /v1/records": 0.001 };
    await deployOk(creator.key, slug, CITIES_CSV, { config: { ...PAID, prices } });
    expect((await call("/__platform/rollup", { method: "POST", headers: OPERATOR })).status).toBe(200);
    const list = async () =>
      /<ul id="api-prices">([\s\S]*?)<\/ul>/.exec(await (await call(`/apis/${slug}`)).text())?.[1] ?? "";
    const before = await list();
    expect(before).toContain("<code>GET /v1/schema</code> free");
    expect(before).toContain("<code>GET /v1/records</code> $0.001");
    expect(before).toContain("<code>GET /v1/records/{id}</code> $0.005");
    await deployOk(creator.key, slug, CITIES_CSV, { config: { prices: { ...prices, "GET /v1/records": 0.003 } } });
    expect(await list()).toContain("<code>GET /v1/records</code> $0.003");
  });

  it("each MCP tool says its own operation's price, and the server's instructions say prices vary", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("pmcp");
    const prices = { "GET /v1/schema": 0, "GET /v1/records": 0.001 };
    await deployOk(creator.key, slug, CITIES_CSV, { config: { ...PAID, prices } });
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
    const rpc = async (method: string, params: unknown = {}) => {
      const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
      return (await (await call(`/t/${slug}/mcp`, { method: "POST", headers, body })).json<any>()).result;
    };
    const byName = new Map<string, string>((await rpc("tools/list")).tools.map((t: any) => [t.name, t.description]));
    expect(byName.get("get_v1_schema")).toMatch(/ Free\.$/);
    expect(byName.get("get_v1_records")).toContain("Costs $0.001 per call");
    expect(byName.get("get_v1_records_id")).toContain("Costs $0.005 per call");
    const clientInfo = { name: "pricing-test", version: "1" };
    const init = await rpc("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo });
    expect(init.instructions).toContain("priced per operation");
  });
});
