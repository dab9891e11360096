// Issue 9 item 2: tenant paths are opaque paths. Paths beginning with `//` (and other odd paths)
// reach the tenant as that literal path on our host: never a 500, never a 502 blamed on the
// tenant, never a changed Host. Through the real dispatcher and Worker Loader.
import { beforeAll, describe, expect, it } from "vitest";
import { auth, call, CITIES_CSV, createCreator, deployOk, expectError, uniqueSlug } from "./helpers.ts";

const ODD_PATHS = [
  "//%00",
  "//a:b",
  "//:99999",
  "//[",
  "//;",
  "//x;0/v1/records",
  "//evil.example/v1/schema",
  "///",
  "//@x/",
  "//%2F%2F",
];

let dataset: string;
let fn: string;

const ECHO = `export default async (req) => ({ url: req.url, path: new URL(req.url).pathname, host: req.headers.get("host") });`;

beforeAll(async () => {
  const { key } = await createCreator("Paths Creator");
  dataset = uniqueSlug("paths");
  await deployOk(key, dataset, CITIES_CSV);
  fn = uniqueSlug("pathfn");
  const form = new FormData();
  form.set("code", new File([ECHO], "index.js", { type: "application/javascript" }));
  form.set("config", JSON.stringify({ resource: { type: "function" } }));
  const res = await call(`/v1/tenants/${fn}/deployments`, { method: "POST", headers: auth(key), body: form });
  if (res.status !== 201) throw new Error(`deploy ${fn}: ${res.status} ${await res.text()}`);
});

describe("paths beginning with // are the tenant's literal paths", () => {
  it("a dataset tenant answers its own 404 for each, never 5xx", async () => {
    for (const path of ODD_PATHS) {
      const res = await call(`/t/${dataset}${path}`);
      await expectError(res, 404, "not_found");
    }
  });

  it("//evil.example/v1/schema is not served as /v1/schema on another host", async () => {
    const body = await expectError(await call(`/t/${dataset}//evil.example/v1/schema`), 404, "not_found");
    expect(body.error.message).toContain("//evil.example/v1/schema");
  });

  it("a function tenant sees the literal path on our host", async () => {
    for (const path of ODD_PATHS) {
      const res = await call(`/t/${fn}${path}?k=v`);
      expect(res.status, path).toBe(200);
      const seen = await res.json<{ url: string; path: string; host: string | null }>();
      const expected = new URL(`http://localhost/t/${fn}${path}`).pathname.slice(`/t/${fn}`.length);
      expect(seen.path, path).toBe(expected);
      expect(new URL(seen.url).host, path).toBe("localhost");
      expect(new URL(seen.url).search, path).toBe("?k=v");
      expect(seen.host ?? "localhost", path).toBe("localhost");
    }
  });

  it("a custom host's // paths stay its own paths too", async () => {
    const res = await call("//evil.example/v1/schema", { host: "no-such-tenant-host.example.org" });
    await expectError(res, 404, "unknown_host");
  });
});
