// Discovery end to end through the real dispatcher: a paid dataset, a paid function with declared
// schemas and a paid proxy with declared operations. Every 402 carries a bazaar extension that
// validates with @x402/extensions; the per-API and platform OpenAPI documents and
// /.well-known/x402 list exactly what a paid call requires (probed without paying); a redeploy
// that changes the columns changes every document at once; bad declarations are refused.
import { beforeAll, describe, expect, it } from "vitest";
import { validateDiscoveryExtension } from "@x402/extensions/bazaar";
import { auth, call, CITIES_CSV, createCreator, deployOk, expectError, uniqueSlug } from "./helpers.ts";
import { instanceProblems } from "../../src/discovery/json-schema.ts";

const PAY_TO = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const PAID = { priceUsd: 0.002, payTo: PAY_TO, network: "eip155:84532" };
let key: string;
let dataset: string;
let fn: string;
let proxy: string;
let hosted: string;
const host = `api-${Date.now().toString(36)}.discovery.example`;

function deployKind(slug: string, config: unknown, code?: string): Promise<Response> {
  const form = new FormData();
  if (code) form.set("code", new File([code], "index.js", { type: "application/javascript" }));
  form.set("config", JSON.stringify(config));
  return call(`/v1/tenants/${slug}/deployments`, { method: "POST", headers: auth(key), body: form });
}

const FN_RESOURCE = {
  type: "function",
  input: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
  output: { type: "object", properties: { length: { type: "integer" } }, required: ["length"] },
};

beforeAll(async () => {
  key = (await createCreator("Discovery Creator")).key;
  dataset = uniqueSlug("disc-ds");
  fn = uniqueSlug("disc-fn");
  proxy = uniqueSlug("disc-px");
  hosted = uniqueSlug("disc-host");
  await deployOk(key, dataset, CITIES_CSV, { config: { ...PAID, description: "Cities of Europe" } });
  await deployOk(key, hosted, CITIES_CSV, { config: { ...PAID, hosts: [host] } });
  const f = await deployKind(
    fn,
    { ...PAID, resource: FN_RESOURCE },
    "export default async (req) => ({ length: (await req.json()).text.length });",
  );
  expect(f.status, await f.clone().text()).toBe(201);
  const p = await deployKind(proxy, {
    ...PAID,
    resource: {
      type: "proxy",
      upstream: "http://127.0.0.1:9/api",
      allowLoopback: true,
      methods: ["GET"],
      operations: [
        {
          method: "GET",
          path: "/quotes/{symbol}",
          input: { type: "object", properties: { currency: { type: "string", enum: ["USD", "EUR"] } } },
          output: { type: "object" },
          outputExample: { price: 1.5 },
        },
        { method: "POST", path: "/orders", input: { type: "object" } },
      ],
    },
  });
  expect(p.status, await p.clone().text()).toBe(201);
});

async function challengeOf(url: string, init: RequestInit & { host?: string } = {}): Promise<any> {
  const res = await call(url, init);
  expect(res.status, url).toBe(402);
  const header = JSON.parse(atob(res.headers.get("payment-required")!));
  const body = await res.json<any>();
  expect(body.extensions).toEqual(header.extensions);
  return header;
}

describe("bazaar in every 402", () => {
  it("each operation's challenge carries a valid bazaar listing of exactly that operation", async () => {
    const list = await challengeOf(`/t/${dataset}/v1/records?country=FR`);
    expect(validateDiscoveryExtension(list.extensions.bazaar)).toEqual({ valid: true });
    expect(list.extensions.bazaar.info.input.method).toBe("GET");
    expect(list.extensions.bazaar.schema.properties.input.properties.queryParams.properties.population).toEqual({
      type: "integer",
    });
    const one = await challengeOf(`/t/${dataset}/v1/records/3`);
    expect(validateDiscoveryExtension(one.extensions.bazaar)).toEqual({ valid: true });
    expect(one.extensions.bazaar.routeTemplate).toBe(`/t/${dataset}/v1/records/:id`);
    const post = await challengeOf(`/t/${fn}/`, { method: "POST", body: "{}" });
    expect(validateDiscoveryExtension(post.extensions.bazaar)).toEqual({ valid: true });
    expect(post.extensions.bazaar.info.input).toMatchObject({
      method: "POST",
      bodyType: "json",
      body: { text: "example" },
    });
    const quote = await challengeOf(`/t/${proxy}/quotes/BTC?currency=EUR`);
    expect(validateDiscoveryExtension(quote.extensions.bazaar)).toEqual({ valid: true });
    expect(quote.extensions.bazaar.info.input.pathParams).toEqual({ symbol: "BTC" });
    const onHost = await challengeOf("/v1/schema", { host });
    expect(validateDiscoveryExtension(onHost.extensions.bazaar)).toEqual({ valid: true });
    // An undescribed path still gets its 402, just without a listing.
    expect((await challengeOf(`/t/${dataset}/nope`)).extensions.bazaar).toBeUndefined();
  });

  it("the proxy lists only operations of its allowed methods", async () => {
    const doc = await (await call(`/t/${proxy}/openapi.json`)).json<any>();
    expect(Object.keys(doc.paths)).toEqual(["/quotes/{symbol}"]);
  });
});

describe("OpenAPI and well-known documents", () => {
  it("the per-API document describes every operation with x-payment-info, 402 and contact", async () => {
    const res = await call(`/t/${dataset}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = await res.json<any>();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.contact).toEqual({ name: "Discovery Creator" });
    expect(doc.servers).toEqual([{ url: `http://localhost/t/${dataset}` }]);
    const get = doc.paths["/v1/records"].get;
    expect(get["x-payment-info"]).toEqual({
      price: { mode: "fixed", currency: "USD", amount: "0.002" },
      protocols: [{ x402: {} }],
    });
    expect(get.responses["402"]).toBeDefined();
    expect(get.responses["200"].content["application/json"].example.items[0]).toEqual({
      id: 1,
      city: "Paris",
      country: "FR",
      population: 2161000,
      capital: true,
    });
    const hostDoc = await (await call("/openapi.json", { host })).json<any>();
    expect(hostDoc.servers).toEqual([{ url: `https://${host}` }]);
    expect(Object.keys(hostDoc.paths)).toEqual(["/v1/records", "/v1/records/{id}", "/v1/schema"]);
    // The tenant host's own fallback list, and the path-mode one, name that origin's URLs.
    const hostList = await (await call("/.well-known/x402", { host })).json<any>();
    expect(hostList.resources).toEqual([
      `https://${host}/v1/records`,
      `https://${host}/v1/records/1`,
      `https://${host}/v1/schema`,
    ]);
    const pathList = await (await call(`/t/${dataset}/.well-known/x402`)).json<any>();
    expect(pathList.resources).toContain(`http://localhost/t/${dataset}/v1/records/1`);
  });

  it("the platform /openapi.json and /.well-known/x402 list every paid operation, matching its 402", async () => {
    const res = await call("/openapi.json");
    const doc = await res.json<any>();
    expect(doc.paths["/v1/leaderboard"]).toBeDefined();
    const paid: [string, string, any][] = [];
    for (const [path, item] of Object.entries<any>(doc.paths))
      for (const [m, op] of Object.entries<any>(item)) if (op["x-payment-info"]) paid.push([path, m, op]);
    const under = (p: string, slug: string) => p === `/t/${slug}` || p.startsWith(`/t/${slug}/`);
    for (const slug of [dataset, fn, proxy, hosted]) expect(paid.some(([p]) => under(p, slug))).toBe(true);
    const wk = await (await call("/.well-known/x402")).json<any>();
    expect(wk.version).toBe(1);
    const mine = wk.resources.filter((u: string) => [dataset, fn, proxy].some((s) => u.includes(`/t/${s}/`)));
    expect(mine.length).toBe(paid.filter(([p]) => [dataset, fn, proxy].some((s) => under(p, s))).length);
    for (const url of mine) {
      const path = new URL(url).pathname;
      const entry = paid.find(([template]) => new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}/?$`).test(path))!;
      const required = await challengeOf(path, {
        method: entry[1].toUpperCase(),
        ...(entry[1] === "post" ? { body: "{}" } : {}),
      });
      expect(required.accepts[0].payTo).toBe(PAY_TO);
      expect(Number(required.accepts[0].amount) / 1e6).toBe(Number(entry[2]["x-payment-info"].price.amount));
    }
    const again = await call("/openapi.json", { headers: { "if-none-match": res.headers.get("etag")! } });
    expect(again.status).toBe(304);
  });

  it("a redeploy that changes the columns changes every document at once", async () => {
    const etag = (await call("/openapi.json")).headers.get("etag");
    await deployOk(key, dataset, "id,name,elevation\n1,Mont Blanc,4808\n", { config: PAID });
    const platform = await call("/openapi.json");
    expect(platform.headers.get("etag")).not.toBe(etag);
    const params = (await platform.json<any>()).paths[`/t/${dataset}/v1/records`].get.parameters.map(
      (p: any) => p.name,
    );
    expect(params).toContain("elevation");
    expect(params).not.toContain("population");
    const own = await (await call(`/t/${dataset}/openapi.json`)).json<any>();
    expect(own.paths["/v1/records/{id}"].get.responses["200"].content["application/json"].example).toEqual({
      id: 1,
      name: "Mont Blanc",
      elevation: 4808,
    });
    const bazaar = (await challengeOf(`/t/${dataset}/v1/records`)).extensions.bazaar;
    expect(Object.keys(bazaar.schema.properties.input.properties.queryParams.properties)).toContain("elevation");
    const md = await (await call(`/v1/apis/${dataset}.md`)).text();
    expect(md).toContain("elevation");
  });
});

describe("markdown and llms.txt", () => {
  it("serves the markdown twin with snippets, by .md or by Accept", async () => {
    const res = await call(`/v1/apis/${fn}.md`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/markdown");
    const md = await res.text();
    for (const needle of ["curl -i", "@x402/fetch", "claw call", "POST /", "$0.002"]) expect(md).toContain(needle);
    const negotiated = await call(`/v1/apis/${fn}`, { headers: { accept: "text/markdown" } });
    expect(await negotiated.text()).toBe(md);
    await expectError(await call("/v1/apis/no-such-api-here.md"), 404, "api_not_found");
  });

  it("/llms.txt says how to pay and where the documents are", async () => {
    const res = await call("/llms.txt");
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const needle of ["# 402claw", "PAYMENT-SIGNATURE", "/openapi.json", "/.well-known/x402"])
      expect(text).toContain(needle);
  });
});

describe("declarations refused at deploy", () => {
  it("a schema that is not JSON Schema, or an example that does not match it, has a stable code", async () => {
    const slug = uniqueSlug("disc-bad");
    const code = "export default () => ({})";
    await expectError(
      await deployKind(slug, { resource: { type: "function", input: { type: "text" } } }, code),
      400,
      "invalid_json_schema",
    );
    await expectError(
      await deployKind(
        slug,
        {
          resource: {
            type: "function",
            operations: [{ method: "POST", path: "/", input: { type: "integer" }, inputExample: "nope" }],
          },
        },
        code,
      ),
      400,
      "invalid_example",
    );
    await expectError(
      await deployKind(
        slug,
        { resource: { type: "function", operations: [{ method: "GET", path: "no-slash" }] } },
        code,
      ),
      400,
      "invalid_request",
    );
  });
});

describe("readiness checklist", () => {
  const checks = async (slug: string, k = key) => {
    const res = await call(`/v1/tenants/${slug}/discovery`, { headers: auth(k) });
    return { res, body: res.status === 200 ? await res.json<any>() : null };
  };
  const byId = (body: any) => Object.fromEntries(body.checks.map((c: any) => [c.id, c]));

  it("reports what discovery sees: schemas, examples, description, price, payTo, bazaar", async () => {
    const { body } = await checks(fn);
    const c = byId(body);
    expect(
      c.input_schema.ok && c.output_schema.ok && c.examples_valid.ok && c.price.ok && c.pay_to.ok && c.bazaar.ok,
    ).toBe(true);
    expect(c.description).toMatchObject({ ok: false });
    expect(body.ready).toBe(false);
    expect(body.documents.openapi).toBe(`http://localhost/t/${fn}/openapi.json`);
    await deployKind(
      fn,
      { description: "Counts the characters of a text, exactly." },
      "export default async (req) => ({ length: 1 });",
    );
    const again = await checks(fn);
    expect(again.body).toMatchObject({ ready: true, version: 2 });
  });

  it("an undeclared free function fails the schema and price checks; other creators see 404", async () => {
    const slug = uniqueSlug("disc-bare");
    expect((await deployKind(slug, { resource: { type: "function" } }, "export default () => ({})")).status).toBe(201);
    const c = byId((await checks(slug)).body);
    expect(c.input_schema.ok).toBe(false);
    expect(c.price.ok).toBe(false);
    expect(c.bazaar.ok).toBe(false);
    const other = (await createCreator("Someone Else")).key;
    await expectError((await checks(slug, other)).res, 404, "tenant_not_found");
  });
});

describe("real responses match the declared schemas", () => {
  it("a free dataset's and a free function's answers validate against their per-API document", async () => {
    const ds = uniqueSlug("disc-free");
    await deployOk(key, ds, CITIES_CSV);
    const fnSlug = uniqueSlug("disc-free-fn");
    const out = {
      type: "object",
      properties: { length: { type: "integer" } },
      required: ["length"],
      additionalProperties: false,
    };
    expect(
      (
        await deployKind(
          fnSlug,
          { resource: { ...FN_RESOURCE, output: out } },
          "export default async (req) => ({ length: (await req.json()).text.length });",
        )
      ).status,
    ).toBe(201);
    const schemaOf = async (slug: string, path: string, method: string) =>
      (await (await call(`/t/${slug}/openapi.json`)).json<any>()).paths[path][method].responses["200"].content[
        "application/json"
      ].schema;
    const probes: [string, string, string, string][] = [
      [ds, "/v1/records", "/v1/records?country=FR&sort=-population&limit=2", "get"],
      [ds, "/v1/records/{id}", "/v1/records/3", "get"],
      [ds, "/v1/schema", "/v1/schema", "get"],
    ];
    for (const [slug, template, path, method] of probes) {
      const res = await call(`/t/${slug}${path}`);
      expect(res.status).toBe(200);
      expect(instanceProblems(await schemaOf(slug, template, method), await res.json()), path).toEqual([]);
    }
    const res = await call(`/t/${fnSlug}/`, { method: "POST", body: JSON.stringify({ text: "hello" }) });
    expect(instanceProblems(await schemaOf(fnSlug, "/", "post"), await res.json())).toEqual([]);
    // The check can fail: a wrong answer does not validate.
    expect(instanceProblems(await schemaOf(fnSlug, "/", "post"), { length: "5" })).not.toEqual([]);
  });
});
