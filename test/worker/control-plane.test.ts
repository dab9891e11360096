// Control plane through the real dispatcher: creators, API keys, deployments, tenant CRUD, audit.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  auth,
  call,
  CITIES_CSV,
  createCreator,
  deployDataset,
  deployOk,
  expectError,
  OPERATOR,
  uniqueSlug,
} from "./helpers.ts";

const PAY_TO = "0x1111111111111111111111111111111111111111";

describe("operator and API keys", () => {
  it("requires the operator token for /__platform routes", async () => {
    await expectError(await call("/__platform/creators", { method: "POST", body: "{}" }), 401, "unauthorized");
    await expectError(
      await call("/__platform/creators", {
        method: "POST",
        headers: { authorization: "Bearer nope" },
        body: JSON.stringify({ name: "x" }),
      }),
      401,
      "unauthorized",
    );
  });

  it("shows a key once and stores only its HMAC", async () => {
    const creator = await createCreator();
    expect(creator.key).toMatch(/^claw_sk_[A-Za-z0-9_-]{43}$/);
    const row = await env.DB.prepare("SELECT key_hash, prefix FROM api_keys WHERE id = ?")
      .bind(creator.keyId)
      .first<{ key_hash: string; prefix: string }>();
    expect(row?.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.key_hash).not.toContain(creator.key.slice(8));
    expect(creator.key.startsWith(row!.prefix)).toBe(true);
    const listed = await (await call("/v1/keys", { headers: auth(creator.key) })).json<any>();
    expect(JSON.stringify(listed)).not.toContain(creator.key);
    expect(listed.keys[0]).toMatchObject({ id: creator.keyId, current: true, revokedAt: null });
  });

  it("revokes keys and enforces scopes", async () => {
    const creator = await createCreator();
    const created = await call("/v1/keys", {
      method: "POST",
      headers: { ...auth(creator.key), "content-type": "application/json" },
      body: JSON.stringify({ name: "ci", scopes: ["tenants:read"] }),
    });
    expect(created.status).toBe(201);
    const readOnly = (await created.json<any>()).apiKey;
    expect((await call("/v1/tenants", { headers: auth(readOnly.key) })).status).toBe(200);
    await expectError(await deployDataset(readOnly.key, uniqueSlug(), CITIES_CSV), 403, "insufficient_scope");
    const revoke = await call(`/v1/keys/${readOnly.id}`, { method: "DELETE", headers: auth(creator.key) });
    expect(revoke.status).toBe(200);
    await expectError(await call("/v1/tenants", { headers: auth(readOnly.key) }), 401, "unauthorized");
    await expectError(
      await call("/v1/keys/key_doesnotexist", { method: "DELETE", headers: auth(creator.key) }),
      404,
      "key_not_found",
    );
    await expectError(await call("/v1/tenants", { headers: auth("claw_sk_forged") }), 401, "unauthorized");
    await expectError(await call("/v1/tenants"), 401, "unauthorized");
  });

  it("validates creator input", async () => {
    const bad = await call("/__platform/creators", {
      method: "POST",
      headers: OPERATOR,
      body: JSON.stringify({ name: "" }),
    });
    await expectError(bad, 400, "invalid_request");
    await expectError(
      await call("/__platform/creators", { method: "POST", headers: OPERATOR, body: "{not json" }),
      400,
      "invalid_json",
    );
    await expectError(
      await call("/__platform/creators", {
        method: "POST",
        headers: OPERATOR,
        body: JSON.stringify({ name: "x", admin: true }),
      }),
      400,
      "invalid_request",
    );
  });
});

describe("deployments", () => {
  it("deploys a CSV dataset, lists and shows it, and audits the change", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("cities");
    const body = await deployOk(creator.key, slug, CITIES_CSV, { config: { description: "Cities", directory: "geo" } });
    expect(body.deployment).toMatchObject({ version: 1, rows: 5, format: "csv", idField: "id" });
    expect(body.tenant).toMatchObject({
      slug,
      owner: creator.id,
      resourceType: "dataset",
      description: "Cities",
      directory: "geo",
      priceUsd: 0,
    });
    expect(body.tenant.endpoints.path).toBe(`http://localhost/t/${slug}/`);

    const list = await (await call("/v1/tenants", { headers: auth(creator.key) })).json<any>();
    expect(list.tenants.map((t: any) => t.slug)).toEqual([slug]);
    const shown = await (await call(`/v1/tenants/${slug}`, { headers: auth(creator.key) })).json<any>();
    expect(shown.tenant.version).toBe(1);
    expect(shown.stats.windows.total.calls).toBe(0);

    const audit = await env.DB.prepare("SELECT action, actor FROM audit_log WHERE subject = ?").bind(slug).all();
    expect(audit.results).toEqual([{ action: "tenant.create", actor: creator.keyId }]);
  });

  it("redeploys as a new version that keeps earlier settings and serves the new data at once", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("redeploy");
    await deployOk(creator.key, slug, CITIES_CSV, {
      config: { description: "v1 desc", rateLimit: { global: { requests: 1000, windowSeconds: 60 } } },
    });
    expect((await call(`/t/${slug}/v1/records`)).status).toBe(200);
    const second = await deployOk(creator.key, slug, "id,name\n1,only\n");
    expect(second.deployment.version).toBe(2);
    expect(second.tenant.description).toBe("v1 desc");
    expect(second.tenant.rateLimit).toEqual({ global: { requests: 1000, windowSeconds: 60 } });
    const records = await (await call(`/t/${slug}/v1/records`)).json<any>();
    expect(records.items).toEqual([{ id: 1, name: "only" }]);
  });

  it("accepts JSON datasets", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("json");
    const data = JSON.stringify({
      items: [
        { sku: "a-1", price: 3.5 },
        { sku: "b-2", price: 4 },
      ],
    });
    const body = await deployOk(creator.key, slug, data, {
      filename: "data.json",
      type: "application/json",
      config: { resource: { idField: "sku" } },
    });
    expect(body.deployment).toMatchObject({ rows: 2, format: "json", idField: "sku" });
    const one = await (await call(`/t/${slug}/v1/records/b-2`)).json<any>();
    expect(one).toMatchObject({ sku: "b-2", price: 4 });
  });

  it("refuses bad uploads with stable codes and leaves nothing behind", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("bad");
    await expectError(
      await deployDataset(creator.key, slug, 'id,name\n1,"unterminated\n2,x\n'),
      422,
      "dataset_malformed",
    );
    await expectError(await deployDataset(creator.key, slug, "a,b\n1,2,3\n"), 422, "dataset_malformed");
    await expectError(await deployDataset(creator.key, slug, "", {}), 422, "dataset_empty");
    await expectError(
      await deployDataset(creator.key, slug, "x", { filename: "data.txt", type: "text/plain" }),
      400,
      "unknown_format",
    );
    await expectError(
      await deployDataset(creator.key, slug, CITIES_CSV, { config: { priceUsd: -1 } }),
      400,
      "invalid_request",
    );
    await expectError(
      await deployDataset(creator.key, slug, CITIES_CSV, { config: { priceUsd: 0.01 } }),
      400,
      "invalid_config",
    );
    await expectError(
      await deployDataset(creator.key, slug, CITIES_CSV, {
        config: { rateLimit: { global: { requests: 0, windowSeconds: 1 } } },
      }),
      400,
      "invalid_request",
    );
    await expectError(
      await deployDataset(creator.key, slug, CITIES_CSV, { config: { plan: "quarantine" } }),
      403,
      "plan_locked",
    );
    await expectError(
      await deployDataset(creator.key, slug, CITIES_CSV, { config: { hosts: ["localhost"] } }),
      400,
      "invalid_request",
    );
    await expectError(
      await call(`/v1/tenants/${slug}/deployments`, {
        method: "POST",
        headers: { ...auth(creator.key), "content-type": "text/csv" },
        body: CITIES_CSV,
      }),
      415,
      "unsupported_media_type",
    );
    const noFile = new FormData();
    noFile.set("config", "{}");
    await expectError(
      await call(`/v1/tenants/${slug}/deployments`, { method: "POST", headers: auth(creator.key), body: noFile }),
      400,
      "missing_file",
    );
    const badConfig = new FormData();
    badConfig.set("file", new File([CITIES_CSV], "d.csv"));
    badConfig.set("config", "{oops");
    await expectError(
      await call(`/v1/tenants/${slug}/deployments`, { method: "POST", headers: auth(creator.key), body: badConfig }),
      400,
      "invalid_json",
    );

    const tenants = await env.DB.prepare("SELECT count(*) AS n FROM tenants WHERE slug = ?")
      .bind(slug)
      .first<{ n: number }>();
    expect(tenants?.n).toBe(0);
    const objects = await env.ARTIFACTS.list({ prefix: `tenants/${slug}/` });
    expect(objects.objects).toHaveLength(0);
    await expectError(await call(`/t/${slug}/v1/records`), 404, "tenant_not_found");
  });

  it("refuses uploads over the size limit before parsing them", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("huge");
    const limit = Number(env.MAX_DATASET_BYTES);
    const row = "1,abcdefghijklmnopqrstuvwxyz0123456789\n";
    const big = "id,text\n" + row.repeat(Math.ceil((limit + 1024) / row.length));
    await expectError(await deployDataset(creator.key, slug, big), 413, "dataset_too_large");
    expect((await env.ARTIFACTS.list({ prefix: `tenants/${slug}/` })).objects).toHaveLength(0);
  });

  it("validates slugs", async () => {
    const creator = await createCreator();
    for (const slug of ["ab", "Upper", "admin", "a_b", "x".repeat(41), "-lead"]) {
      await expectError(await deployDataset(creator.key, slug, CITIES_CSV), 400, "invalid_slug");
    }
    await expectError(await call("/t/Bad_Slug/v1/records"), 400, "invalid_slug");
  });

  it("keeps slugs and hosts to their owners", async () => {
    const alice = await createCreator("alice");
    const bob = await createCreator("bob");
    const slug = uniqueSlug("owned");
    const host = `${slug}.example.com`;
    await deployOk(alice.key, slug, CITIES_CSV, { config: { hosts: [host] } });
    await expectError(await deployDataset(bob.key, slug, CITIES_CSV), 409, "slug_taken");
    await expectError(await call(`/v1/tenants/${slug}`, { headers: auth(bob.key) }), 404, "tenant_not_found");
    await expectError(
      await call(`/v1/tenants/${slug}`, { method: "DELETE", headers: auth(bob.key) }),
      404,
      "tenant_not_found",
    );
    await expectError(
      await deployDataset(bob.key, uniqueSlug("thief"), CITIES_CSV, { config: { hosts: [host] } }),
      409,
      "host_taken",
    );
  });
});

describe("tenant updates", () => {
  it("patches config as a new version and validates it", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("patch");
    await deployOk(creator.key, slug, CITIES_CSV);
    const patch = (body: unknown) =>
      call(`/v1/tenants/${slug}`, {
        method: "PATCH",
        headers: { ...auth(creator.key), "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    await expectError(await patch({ priceUsd: 0.001 }), 400, "invalid_config");
    await expectError(await patch({ owner: "someone-else" }), 400, "invalid_request");
    await expectError(await patch({ priceUsd: 0.0000001, payTo: PAY_TO }), 400, "invalid_config");
    const ok = await patch({ priceUsd: 0.001, payTo: PAY_TO, description: "now paid" });
    expect(ok.status).toBe(200);
    const body = await ok.json<any>();
    expect(body.tenant).toMatchObject({ version: 2, priceUsd: 0.001, payTo: PAY_TO, description: "now paid" });
    expect(body.tenant.price).toMatchObject({ atomic: "1000", display: "$0.001" });
  });

  it("deletes a tenant: calls stop, the slug can be reused by its owner, artifacts go", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("gone");
    const host = `${slug}.example.org`;
    await deployOk(creator.key, slug, CITIES_CSV, { config: { hosts: [host] } });
    expect((await call("/v1/records", { host })).status).toBe(200);
    const del = await call(`/v1/tenants/${slug}`, { method: "DELETE", headers: auth(creator.key) });
    expect(del.status).toBe(200);
    await expectError(await call(`/t/${slug}/v1/records`), 404, "tenant_not_found");
    await expectError(await call("/v1/records", { host }), 404, "unknown_host");
    await expectError(await call(`/v1/tenants/${slug}`, { headers: auth(creator.key) }), 404, "tenant_not_found");
    const again = await deployOk(creator.key, slug, CITIES_CSV);
    expect(again.deployment.version).toBeGreaterThan(2);
    expect((await call(`/t/${slug}/v1/records`)).status).toBe(200);
  });
});
