// Invariant 1 and 5 through the whole dispatcher: N concurrent calls against a limit L admit
// exactly min(N, L), and caller-supplied identity headers never earn a fresh bucket.
import { describe, expect, it } from "vitest";
import { call, CITIES_CSV, createCreator, deployOk, uniqueSlug } from "./helpers.ts";

async function tenantWith(config: unknown): Promise<string> {
  const creator = await createCreator();
  const slug = uniqueSlug("conc");
  await deployOk(creator.key, slug, CITIES_CSV, { config });
  return slug;
}

async function burst(slug: string, n: number, headersFor: (i: number) => Record<string, string>): Promise<Response[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) => call(`/t/${slug}/v1/records?limit=1`, { headers: headersFor(i) })),
  );
}

function countStatus(responses: Response[], status: number): number {
  return responses.filter((r) => r.status === status).length;
}

async function codesOf(responses: Response[]): Promise<Set<string>> {
  const codes = new Set<string>();
  for (const r of responses) if (r.status !== 200) codes.add(((await r.json()) as any).error.code);
  return codes;
}

describe("admission under concurrency", () => {
  it("500 concurrent calls against a global limit of 100 admit exactly 100", async () => {
    const slug = await tenantWith({ rateLimit: { global: { requests: 100, windowSeconds: 3600 } } });
    const responses = await burst(slug, 500, (i) => ({ "cf-connecting-ip": `198.51.100.${i % 250}` }));
    expect(countStatus(responses, 200)).toBe(100);
    expect(countStatus(responses, 429)).toBe(400);
    expect(await codesOf(responses)).toEqual(new Set(["rate_limited"]));
    const refused = responses.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  it("500 concurrent calls from one caller against a per-caller limit of 100 admit exactly 100; others are unaffected", async () => {
    const slug = await tenantWith({ rateLimit: { perCaller: { requests: 100, windowSeconds: 3600 } } });
    const responses = await burst(slug, 500, () => ({ "cf-connecting-ip": "192.0.2.1" }));
    expect(countStatus(responses, 200)).toBe(100);
    expect((await call(`/t/${slug}/v1/records`, { headers: { "cf-connecting-ip": "192.0.2.2" } })).status).toBe(200);
  });

  it("a spoofed x-caller-id / x-agent-id does not get a fresh bucket", async () => {
    const slug = await tenantWith({ rateLimit: { perCaller: { requests: 5, windowSeconds: 3600 } } });
    const responses = await burst(slug, 50, (i) => ({
      "cf-connecting-ip": "192.0.2.77",
      "x-caller-id": `agent-${i}`,
      "x-agent-id": `agent-${i}`,
    }));
    expect(countStatus(responses, 200)).toBe(5);
  });

  it("500 concurrent calls against a daily quota of 100 admit exactly 100", async () => {
    const slug = await tenantWith({ usageLimit: { dailyRequests: 100 } });
    const responses = await burst(slug, 500, (i) => ({ "cf-connecting-ip": `203.0.113.${i % 200}` }));
    expect(countStatus(responses, 200)).toBe(100);
    expect(await codesOf(responses)).toEqual(new Set(["quota_exceeded"]));
    const refused = responses.find((r) => r.status === 429)!;
    expect(refused.headers.get("x-usage-daily-remaining")).toBe("0");
  });
});
