// Owns: property tests of the local facilitator's request schema (cli/stack/facilitator-request.ts)
// for `upto` bodies: every 256-bit Permit2 nonce/deadline parses, nothing above 2^256 - 1 or
// non-canonical does, and a payload of the other scheme's shape is refused. Pure: no chain.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as v from "valibot";
import { FacilitatorRequestSchema } from "../../cli/stack/facilitator-request.ts";

const A = (n: number): string => `0x${n.toString(16).padStart(40, "0")}`;
const MAX = 2n ** 256n - 1n;

function uptoBody(nonce: string, deadline = "2000000000", amount = "1000") {
  const requirements = {
    scheme: "upto",
    network: "eip155:84532",
    asset: A(1),
    amount,
    payTo: A(2),
    maxTimeoutSeconds: 300,
    extra: { name: "USDC", version: "2", facilitatorAddress: A(3) },
  };
  return {
    x402Version: 2,
    paymentPayload: {
      x402Version: 2,
      accepted: requirements,
      payload: {
        signature: `0x${"ab".repeat(65)}`,
        permit2Authorization: {
          from: A(4),
          permitted: { token: A(1), amount },
          spender: A(5),
          nonce,
          deadline,
          witness: { to: A(2), facilitator: A(3), validAfter: "0" },
        },
      },
    },
    paymentRequirements: requirements,
  };
}

const parses = (body: unknown): boolean => v.safeParse(FacilitatorRequestSchema, body).success;

describe("facilitator request schema: upto", () => {
  it("accepts every nonce and deadline in [0, 2^256 - 1] (random nonces are often 78 digits)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX }), fc.bigInt({ min: 0n, max: MAX }), (nonce, deadline) =>
        parses(uptoBody(nonce.toString(), deadline.toString())),
      ),
    );
    expect(parses(uptoBody(MAX.toString()))).toBe(true);
  });

  it("refuses nonces above 2^256 - 1, and non-canonical or non-decimal numbers", () => {
    fc.assert(fc.property(fc.bigInt({ min: MAX + 1n, max: 10n ** 80n }), (n) => !parses(uptoBody(n.toString()))));
    for (const bad of ["01", "-1", "1e3", "0x10", " 1", "1.0", ""]) expect(parses(uptoBody(bad)), bad).toBe(false);
    // Any string either parses as a canonical in-range decimal or is refused; never a throw.
    const canonical = (n: string): boolean => /^(0|[1-9][0-9]*)$/.test(n) && BigInt(n) <= MAX;
    fc.assert(fc.property(fc.string(), (n) => parses(uptoBody(n)) === canonical(n)));
  });

  it("refuses a payload whose shape does not match the scheme", () => {
    const upto = uptoBody("1");
    const asExact = structuredClone(upto);
    asExact.paymentRequirements.scheme = "exact";
    asExact.paymentPayload.accepted.scheme = "exact";
    expect(parses(asExact)).toBe(false);

    const eip3009 = structuredClone(upto) as Record<string, any>;
    eip3009.paymentPayload.payload = {
      signature: `0x${"ab".repeat(65)}`,
      authorization: {
        from: A(4),
        to: A(2),
        value: "1",
        validAfter: "0",
        validBefore: "9",
        nonce: `0x${"11".repeat(32)}`,
      },
    };
    expect(parses(eip3009)).toBe(false);
    eip3009.paymentRequirements.scheme = "exact";
    expect(parses(eip3009)).toBe(true);
  });

  it("never throws on arbitrary JSON in the payload", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (junk) => {
        const body = uptoBody("1") as Record<string, any>;
        body.paymentPayload.payload.permit2Authorization = junk;
        return parses(body) === false;
      }),
    );
  });
});
