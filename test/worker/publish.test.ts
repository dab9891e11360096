// Publishing without the platform's Cloudflare settings fails closed with a clear code (the
// upload itself is tested end to end against a recording server in test/node/cli-publish.test.ts).
import { describe, expect, it } from "vitest";
import { auth, call, CITIES_CSV, createCreator, deployOk, expectError, uniqueSlug } from "./helpers.ts";

describe("publish", () => {
  it("answers 503 publishing_unavailable when CF_* is not configured, and 404 for others' tenants", async () => {
    const owner = await createCreator();
    const other = await createCreator();
    const slug = uniqueSlug("pub");
    await deployOk(owner.key, slug, CITIES_CSV);
    const publish = (key: string) =>
      call(`/v1/tenants/${slug}/publish`, {
        method: "POST",
        headers: { ...auth(key), "content-type": "application/json" },
        body: "{}",
      });
    await expectError(await publish(owner.key), 503, "publishing_unavailable");
    await expectError(await publish(other.key), 404, "tenant_not_found");
  });
});

describe("publish --dry-run without Cloudflare settings", () => {
  it("returns the plan with placeholders and the missing settings; a proxy is 422 publish_unsupported", async () => {
    const owner = await createCreator();
    const slug = uniqueSlug("pubdry");
    await deployOk(owner.key, slug, CITIES_CSV);
    const dry = (s: string) =>
      call(`/v1/tenants/${s}/publish`, {
        method: "POST",
        headers: { ...auth(owner.key), "content-type": "application/json" },
        body: '{"dryRun":true}',
      });
    const res = await dry(slug);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({
      dryRun: true,
      slug,
      version: 1,
      missingSettings: ["CF_ACCOUNT_ID", "CF_DISPATCH_NAMESPACE", "CF_API_TOKEN"],
    });
    expect(body.plan.url).toContain(
      "/accounts/unset-CF_ACCOUNT_ID/workers/dispatch/namespaces/unset-CF_DISPATCH_NAMESPACE/scripts/",
    );
    expect(body.plan.modules.map((m: any) => m.name)).toEqual(["index.js", "engine.js"]);

    const proxy = uniqueSlug("pubdryproxy");
    const form = new FormData();
    form.set("config", JSON.stringify({ resource: { type: "proxy", upstream: "https://api.example.com/v1" } }));
    const deployed = await call(`/v1/tenants/${proxy}/deployments`, {
      method: "POST",
      headers: auth(owner.key),
      body: form,
    });
    expect(deployed.status).toBe(201);
    await expectError(await dry(proxy), 422, "publish_unsupported");
  });
});
