// Publishing without the platform's Cloudflare settings fails closed with a clear code (the
// upload itself is tested end to end against a recording server in test/node/cli-publish.test.ts).
import { describe, it } from "vitest";
import { auth, call, CITIES_CSV, createCreator, deployOk, expectError, uniqueSlug } from "./helpers.ts";

describe("publish", () => {
  it("answers 503 publishing_unavailable when CF_* is not configured, and 404 for others' tenants", async () => {
    const owner = await createCreator();
    const other = await createCreator();
    const slug = uniqueSlug("pub");
    await deployOk(owner.key, slug, CITIES_CSV);
    const publish = (key: string) => call(`/v1/tenants/${slug}/publish`, { method: "POST", headers: { ...auth(key), "content-type": "application/json" }, body: "{}" });
    await expectError(await publish(owner.key), 503, "publishing_unavailable");
    await expectError(await publish(other.key), 404, "tenant_not_found");
  });
});
