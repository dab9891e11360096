// The cached encoding of the plain 402 (src/payments/challenge-cache.ts): the same bytes as
// building it afresh, whatever the requestId; built again for another tenant version, request,
// terms or offer; never cached for the 402s that carry a reason of their own.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import type { PaymentRequirements } from "@x402/core/types";
import type { TenantConfig } from "../../src/config/tenant-config.ts";
import { bodyWithRequestId } from "../../src/payments/challenge-cache.ts";
import { challenge } from "../../src/payments/responses.ts";

const TENANT = {
  slug: "cities",
  owner: "c1",
  version: 3,
  resourceType: "dataset",
  description: "World cities",
  priceUsd: 0.001,
  payTo: "0x1111111111111111111111111111111111111111",
  network: "eip155:84532",
} as TenantConfig;
const REQUIREMENTS: PaymentRequirements = {
  scheme: "exact",
  network: "eip155:84532",
  amount: "1000",
  asset: "0x2222222222222222222222222222222222222222",
  payTo: TENANT.payTo!,
  maxTimeoutSeconds: 60,
  extra: { name: "USDC", version: "2" },
};
const MESSAGE = "this API costs 1000 atomic units per call; pay with x402";

/** A challenge whose extensions builder counts its calls. */
function counted() {
  let builds = 0;
  const extensions = () => {
    builds += 1;
    return { bazaar: { info: { n: builds } } };
  };
  return { extensions, builds: () => builds };
}

async function parts(res: Response) {
  return {
    header: res.headers.get("payment-required")!,
    body: await res.text(),
    requestId: res.headers.get("x-request-id"),
  };
}

describe("bodyWithRequestId", () => {
  it("is JSON.stringify of the object with requestId added last", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.string(), (object, requestId) => {
        const withoutId = { ...object };
        delete withoutId.requestId;
        const encoded = { header: "", bodyWithoutRequestId: JSON.stringify(withoutId) };
        expect(bodyWithRequestId(encoded, requestId)).toBe(JSON.stringify({ ...withoutId, requestId }));
      }),
    );
  });
});

describe("challenge", () => {
  it("reuses the plain 402's encoding: same header, body with each request's id, extensions built once", async () => {
    const c = counted();
    const request = new Request("https://claw.example/t/cities/v1/records?limit=1");
    const url = `${request.url}&n=${crypto.randomUUID()}`; // a URL no other test has cached
    const first = await parts(
      challenge(TENANT, REQUIREMENTS, new Request(url), "req-1", "payment_required", MESSAGE, {}, c.extensions),
    );
    const second = await parts(
      challenge(TENANT, REQUIREMENTS, new Request(url), "req-2", "payment_required", MESSAGE, {}, c.extensions),
    );
    expect(c.builds()).toBe(1);
    expect(second.header).toBe(first.header);
    const required = decodePaymentRequiredHeader(first.header);
    expect(required).toMatchObject({
      error: MESSAGE,
      resource: { url },
      accepts: [REQUIREMENTS],
      extensions: { bazaar: { info: { n: 1 } } },
    });
    expect(second.body).toBe(JSON.stringify({ ...required, code: "payment_required", requestId: "req-2" }));
    expect(JSON.parse(first.body).requestId).toBe("req-1");
    expect(second.requestId).toBe("req-2");
  });

  it("builds again for another tenant version, URL, method, terms or offer", () => {
    const c = counted();
    const url = `https://claw.example/t/cities/v1/records?n=${crypto.randomUUID()}`;
    const ask = (tenant: TenantConfig, requirements: PaymentRequirements, request: Request, offer: object | null) =>
      challenge(tenant, requirements, request, "r", "payment_required", MESSAGE, {}, c.extensions, offer);
    const offer = {};
    ask(TENANT, REQUIREMENTS, new Request(url), offer);
    ask(TENANT, REQUIREMENTS, new Request(url), offer);
    expect(c.builds()).toBe(1);
    ask({ ...TENANT, version: 4 }, REQUIREMENTS, new Request(url), offer);
    ask(TENANT, REQUIREMENTS, new Request(`${url}&more`), offer);
    ask(TENANT, REQUIREMENTS, new Request(url, { method: "POST" }), offer);
    ask(TENANT, { ...REQUIREMENTS, amount: "2000" }, new Request(url), offer);
    ask(TENANT, REQUIREMENTS, new Request(url), {});
    expect(c.builds()).toBe(6);
  });

  it("never caches a 402 with a reason of its own, and keeps its extra headers", async () => {
    const c = counted();
    const url = `https://claw.example/t/cities/v1/records?n=${crypto.randomUUID()}`;
    for (const requestId of ["a", "b"]) {
      const res = challenge(
        TENANT,
        REQUIREMENTS,
        new Request(url),
        requestId,
        "spend_cap_exceeded",
        "cap",
        { "retry-after": "60" },
        c.extensions,
      );
      expect(res.headers.get("retry-after")).toBe("60");
      expect(JSON.parse(await res.text())).toMatchObject({ code: "spend_cap_exceeded", requestId });
    }
    expect(c.builds()).toBe(2);
  });
});
