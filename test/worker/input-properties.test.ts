// Property tests (fast-check) through the real dispatcher: tenant paths of every shape, and deploy
// inputs (the multipart parts and the config JSON, src/control/deployments.ts and
// src/config/tenant-config.ts). Property: a success, or a 4xx JSON envelope with a stable
// `error.code` and the `requestId`; never a 5xx, never an exception.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { configLike, junk, oddPath, resourceLike } from "../support/arbitraries.ts";
import { auth, call, CITIES_CSV, createCreator, deployOk, uniqueSlug } from "./helpers.ts";

let key: string;
let dataset: string;
let fn: string;

async function expectNo5xx(res: Response, what: string): Promise<number> {
  const text = await res.text();
  expect(res.status, `${what} → ${res.status} ${text.slice(0, 200)}`).toBeLessThan(500);
  if (res.status >= 400) {
    const body = JSON.parse(text);
    expect(typeof body.error?.code, `${what}: ${text.slice(0, 200)}`).toBe("string");
    expect(body.requestId).toBe(res.headers.get("x-request-id"));
  }
  return res.status;
}

beforeAll(async () => {
  key = (await createCreator("Property Creator")).key;
  dataset = uniqueSlug("propds");
  await deployOk(key, dataset, CITIES_CSV);
  fn = uniqueSlug("propfn");
  const form = new FormData();
  form.set("code", new File(["export default async (req) => ({ path: new URL(req.url).pathname });"], "index.js"));
  form.set("config", JSON.stringify({ resource: { type: "function" } }));
  const res = await call(`/v1/tenants/${fn}/deployments`, { method: "POST", headers: auth(key), body: form });
  if (res.status !== 201) throw new Error(`deploy ${fn}: ${res.status} ${await res.text()}`);
});

describe("tenant paths through the dispatcher", () => {
  it("never a 5xx for any path on a dataset or a function tenant; the function sees a path on our host", async () => {
    await fc.assert(
      fc.asyncProperty(oddPath, fc.constantFrom("dataset", "function"), async (path, which) => {
        const slug = which === "dataset" ? dataset : fn;
        let request: Request;
        try {
          request = new Request(`http://localhost/t/${slug}${path}`);
        } catch {
          return; // not a URL any client could send
        }
        const url = new URL(request.url);
        const res = await call(url.pathname + url.search);
        const status = await expectNo5xx(res.clone(), path);
        if (which === "function" && url.pathname.startsWith(`/t/${slug}`) && status === 200) {
          const seen = await res.json<{ path: string }>();
          expect(seen.path.startsWith("/")).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe("deploy inputs through the dispatcher", () => {
  it("any config JSON with a dataset, a function or no part: 201/200 or a 4xx envelope", async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        // Weighted towards near-valid input, so successes and deep refusals are both reached.
        fc.record({
          base: fc.oneof({ arbitrary: fc.constant({}), weight: 3 }, { arbitrary: configLike, weight: 2 }),
          resource: fc.option(resourceLike, { nil: undefined, freq: 2 }),
        }),
        fc.constantFrom("file", "code", "none"),
        fc.oneof(
          { arbitrary: fc.constant(undefined), weight: 4 },
          { arbitrary: fc.constant('{"API_KEY":"v"}'), weight: 2 },
          {
            arbitrary: fc.oneof(
              fc.string({ maxLength: 20 }),
              fc.dictionary(fc.constantFrom("API_KEY", "bad", ""), junk).map((d) => JSON.stringify(d)),
            ),
            weight: 1,
          },
        ),
        fc.integer({ min: 0, max: 7 }).map((n) => n > 0),
        async ({ base, resource }, part, secrets, rawConfig) => {
          const config = resource === undefined ? { ...(base ?? {}) } : { ...(base ?? {}), resource };
          const form = new FormData();
          form.set("config", rawConfig ? JSON.stringify(config) : String(JSON.stringify(config)).slice(0, 30));
          if (part === "file") form.set("file", new File([CITIES_CSV], "data.csv", { type: "text/csv" }));
          if (part === "code") form.set("code", new File(["export default () => 1;"], "index.js"));
          if (secrets !== undefined) form.set("secrets", secrets);
          const res = await call(`/v1/tenants/${uniqueSlug("pdep")}/deployments`, {
            method: "POST",
            headers: auth(key),
            body: form,
          });
          const text = await res.clone().text();
          const status = await expectNo5xx(res, JSON.stringify(config).slice(0, 300));
          expect([200, 201].includes(status) || (status >= 400 && status < 500)).toBe(true);
          const code = status < 300 ? String(status) : `${status} ${JSON.parse(text).error.code}`;
          seen.set(code, (seen.get(code) ?? 0) + 1);
        },
      ),
      { numRuns: 150 },
    );
    console.log("deploy property outcomes", Object.fromEntries(seen));
    // The generator reaches both sides: some deploys succeed, and several distinct refusals occur.
    expect(seen.get("201")).toBeGreaterThan(0);
    expect([...seen.keys()].filter((k) => k.startsWith("4")).length).toBeGreaterThan(3);
  });

  it("any resource config alone reaches the kind's own checks: 201 or a 4xx envelope", async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(resourceLike, fc.constantFrom("file", "code", "none"), async (resource, part) => {
        const form = new FormData();
        form.set("config", JSON.stringify({ resource }));
        if (part === "file") form.set("file", new File([CITIES_CSV], "data.csv", { type: "text/csv" }));
        if (part === "code") form.set("code", new File(["export default () => 1;"], "index.js"));
        form.set("secrets", '{"API_KEY":"v"}');
        const res = await call(`/v1/tenants/${uniqueSlug("pres")}/deployments`, {
          method: "POST",
          headers: auth(key),
          body: form,
        });
        const text = await res.clone().text();
        const status = await expectNo5xx(res, JSON.stringify(resource).slice(0, 300));
        seen.add(status < 300 ? String(status) : JSON.parse(text).error.code);
      }),
      { numRuns: 120 },
    );
    console.log("resource property outcomes", [...seen].sort().join(" "));
  });
});
