// The parser crawlers really use (@agentcash/discovery, the OpenAPI-first runtime of x402scan and
// AgentCash) against the real local stack over HTTP: from the platform origin's /openapi.json
// alone it must find every paid API of a stack with a dataset, a function with declared schemas
// and a proxy with declared operations, with input schemas, prices and payTo; its probe (no
// payment) must agree with the document; a real paid call with the official client at that price
// succeeds; and the /.well-known/x402 fallback lists the same set.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as discovery from "@agentcash/discovery";
import { payingFetch, startPaidEnv, CSV, type PaidEnv } from "./support/paid-env.ts";

let env: PaidEnv;
const slugs: string[] = [];
const PRICE = 0.003;

async function deploy(
  slug: string,
  config: Record<string, unknown>,
  part?: { name: "file" | "code"; content: string; filename: string },
): Promise<void> {
  const form = new FormData();
  if (part) form.set(part.name, new File([part.content], part.filename));
  const payments = env.stack.payments;
  form.set(
    "config",
    JSON.stringify({
      priceUsd: PRICE,
      payTo: payments.accounts.payTo.address,
      network: payments.network,
      asset: payments.asset,
      ...config,
    }),
  );
  const res = await fetch(`${env.stack.apiUrl}/v1/tenants/${slug}/deployments`, {
    method: "POST",
    headers: { authorization: `Bearer ${env.creatorKey}` },
    body: form,
  });
  if (res.status !== 201) throw new Error(`deploy ${slug}: ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  env = await startPaidEnv();
  const [ds, fn, px] = ["crawl-ds", "crawl-fn", "crawl-px"].map((p) => `${p}-${process.pid}`) as [
    string,
    string,
    string,
  ];
  slugs.push(ds, fn, px);
  await deploy(ds, { description: "Cities with population" }, { name: "file", content: CSV, filename: "cities.csv" });
  const input = { type: "object", properties: { text: { type: "string" } }, required: ["text"] };
  await deploy(
    fn,
    { resource: { type: "function", input, output: { type: "object", properties: { length: { type: "integer" } } } } },
    {
      name: "code",
      content: "export default async (req) => ({ length: (await req.json()).text.length });",
      filename: "index.js",
    },
  );
  const ops = [
    {
      method: "GET",
      path: "/rates",
      input: { type: "object", properties: { base: { type: "string" } }, required: ["base"] },
      output: { type: "object" },
    },
  ];
  await deploy(px, {
    resource: { type: "proxy", upstream: `${env.stack.apiUrl}/health`, allowLoopback: true, operations: ops },
  });
}, 180_000);

afterAll(async () => {
  await env?.stop();
});

/** Query parameter names, whether the schema is OpenAPI `parameters` (document) or JSON Schema (probe). */
function inputNames(schema: Record<string, unknown> | undefined): string[] {
  const params = schema?.parameters as { name: string; in: string }[] | undefined;
  const names = params
    ? params.filter((p) => p.in === "query").map((p) => p.name)
    : Object.keys((schema?.properties ?? {}) as object);
  return names.sort();
}

describe("@agentcash/discovery on the platform origin", () => {
  it("finds every paid API with its price from /openapi.json alone; the document has no errors", async () => {
    const found = await discovery.discoverOriginSchema({ target: env.stack.apiUrl });
    expect(found.found).toBe(true);
    if (!found.found) return;
    for (const slug of slugs) {
      const mine = found.endpoints.filter((e) => e.path === `/t/${slug}` || e.path.startsWith(`/t/${slug}/`));
      expect(mine.length, slug).toBeGreaterThan(0);
      for (const e of mine) expect(e).toMatchObject({ authMode: "paid", price: `${PRICE} USD` });
    }
    const openapi = await discovery.getOpenAPI(env.stack.apiUrl);
    expect(openapi.isOk()).toBe(true);
    const value = openapi.isOk() ? openapi.value : null;
    expect(discovery.getWarningsForOpenAPI(value).filter((w) => w.severity === "error")).toEqual([]);
  });

  it("each endpoint has an input schema, its probe matches the document, and paying that price works", async () => {
    const payTo = env.stack.payments.accounts.payTo.address;
    const cases: [string, "GET" | "POST", string | undefined][] = [
      [`/t/${slugs[0]}/v1/records`, "GET", undefined],
      [`/t/${slugs[1]}`, "POST", JSON.stringify({ text: "hello" })],
    ];
    for (const path of [...cases.map((c) => c[0]), `/t/${slugs[2]}/rates`]) {
      // From the document alone (what a crawler lists) ...
      const listed = await discovery.checkEndpointSchema({ url: `${env.stack.apiUrl}${path}` });
      expect(listed.found, path).toBe(true);
      if (!listed.found) continue;
      const fromDoc = listed.advisories[0]!;
      expect(fromDoc.inputSchema, path).toBeDefined();
      expect(fromDoc.estimatedPrice, path).toBe(`${PRICE} USD`);
      // ... and from the live 402 (the probe reads our bazaar extension and accepts).
      const probed = await discovery.checkEndpointSchema({ url: `${env.stack.apiUrl}${path}`, probe: true });
      if (!probed.found) throw new Error(`probe ${path}`);
      const live = probed.advisories.find((a) => a.method === fromDoc.method)!;
      expect(live.inputSchema, path).toBeDefined();
      if (fromDoc.method === "GET") expect(inputNames(live.inputSchema), path).toEqual(inputNames(fromDoc.inputSchema));
      const option = live.paymentOptions?.find((o) => o.protocol === "x402");
      expect(option, path).toMatchObject({ payTo, amount: "3000", network: env.stack.payments.network });
      const challenge = await fetch(`${env.stack.apiUrl}${path}`, { method: fromDoc.method });
      expect(discovery.validatePaymentRequiredDetailed(await challenge.json()).valid, path).toBe(true);
    }
    const pay = payingFetch(env);
    for (const [path, method, body] of cases) {
      const res = await pay(`${env.stack.apiUrl}${path}`, {
        method,
        ...(body ? { body, headers: { "content-type": "application/json" } } : {}),
      });
      expect(res.status, path).toBe(200);
    }
  });

  it("the /.well-known/x402 fallback lists the same paid APIs", async () => {
    const wk = (await (await fetch(`${env.stack.apiUrl}/.well-known/x402`)).json()) as {
      version: number;
      resources: string[];
    };
    expect(wk.version).toBe(1);
    const found = await discovery.discoverOriginSchema({ target: env.stack.apiUrl });
    if (!found.found) throw new Error("not found");
    const fromOpenApi = new Set(found.endpoints.filter((e) => e.authMode === "paid").map((e) => e.path.split("/")[2]));
    const fromWellKnown = new Set(wk.resources.map((u) => new URL(u).pathname.split("/")[2]));
    expect([...fromWellKnown].sort()).toEqual([...fromOpenApi].sort());
    for (const slug of slugs) expect(fromWellKnown.has(slug)).toBe(true);
  });
});
