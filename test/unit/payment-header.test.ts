// Property tests (fast-check) of the payment header decoder, the parser of outside input on the
// paid path: whatever a client sends as PAYMENT-SIGNATURE / X-PAYMENT, checkPayment never throws
// and answers either a decoded payment that matches the requirements exactly or a problem with
// one of four stable codes (each answered as a 402 by the gateway).
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PaymentRequirements } from "@x402/core/types";
import { checkPayment, decodePayment, mismatch, paymentId } from "../../src/payments/payment-header.ts";

const CODES = ["invalid_payment_header", "unsupported_x402_version", "payment_mismatch", "payment_expired"];
const NOW = Date.UTC(2027, 0, 15, 12, 0, 0);
const REQUIRED: PaymentRequirements = {
  scheme: "exact",
  network: "eip155:84532",
  asset: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  amount: "2500",
  payTo: "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
  maxTimeoutSeconds: 60,
  extra: { name: "USDC", version: "2" },
};

const b64 = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64");
const hex = (bytes: number) =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((a) => `0x${Buffer.from(a).toString("hex")}`);

/** A well-formed payment for REQUIRED from a random payer, nonce and signature. */
const validPayment = fc
  .record({
    from: hex(20),
    nonce: hex(32),
    signature: hex(65),
    validBefore: fc.integer({ min: NOW / 1000 + 1, max: 4_000_000_000 }),
  })
  .map((p) => ({
    x402Version: 2,
    accepted: { ...REQUIRED },
    payload: {
      signature: p.signature,
      authorization: {
        from: p.from,
        to: REQUIRED.payTo,
        value: REQUIRED.amount,
        validAfter: "0",
        validBefore: String(p.validBefore),
        nonce: p.nonce,
      },
    },
  }));

/** Replacements the rules accept: an address in another case, another hex signature, a later validBefore. */
function stillValid(path: string[], value: unknown, original: unknown): boolean {
  if (typeof value !== "string") return false;
  const field = path.join(".");
  if (field === "payload.signature") return /^0x[0-9a-fA-F]+$/.test(value);
  if (field === "payload.authorization.validBefore") return /^\d{1,78}$/.test(value) && Number(value) * 1000 > NOW;
  return value.toLowerCase() === String(original).toLowerCase();
}

function expectStable(result: ReturnType<typeof checkPayment>): void {
  if ("code" in result) {
    expect(CODES).toContain(result.code);
    expect(typeof result.message).toBe("string");
    expect(result.message.length).toBeGreaterThan(0);
  } else {
    expect(mismatch(result, REQUIRED)).toBeNull();
  }
}

describe("payment header decoder (properties)", () => {
  it("never throws on any string, and answers a stable code", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.base64String(), fc.string({ maxLength: 20_000 })),
        (header) => {
          expectStable(checkPayment(header, REQUIRED, NOW));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("never throws on base64 of any JSON value, and only a whole valid payment decodes", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = checkPayment(b64(value), REQUIRED, NOW);
        expectStable(result);
        expect("code" in result).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("decodes every well-formed payment to its own authorization and identity", () => {
    fc.assert(
      fc.property(validPayment, (payment) => {
        const result = checkPayment(b64(payment), REQUIRED, NOW);
        if ("code" in result) throw new Error(`refused a valid payment: ${result.code} ${result.message}`);
        expect(result.authorization).toEqual(payment.payload.authorization);
        const { from, nonce } = payment.payload.authorization;
        expect(paymentId(REQUIRED, result)).toBe(
          `${REQUIRED.network}:${REQUIRED.asset}:${from}:${nonce}`.toLowerCase(),
        );
      }),
      { numRuns: 200 },
    );
  });

  it("refuses a valid payment with any one field replaced by any JSON value, with a stable code", () => {
    const paths = [
      ["x402Version"],
      ["accepted", "scheme"],
      ["accepted", "network"],
      ["accepted", "asset"],
      ["accepted", "amount"],
      ["accepted", "payTo"],
      ["payload", "signature"],
      ["payload", "authorization", "from"],
      ["payload", "authorization", "to"],
      ["payload", "authorization", "value"],
      ["payload", "authorization", "validBefore"],
      ["payload", "authorization", "nonce"],
    ];
    fc.assert(
      fc.property(validPayment, fc.constantFrom(...paths), fc.jsonValue(), (payment, path, value) => {
        const copy = JSON.parse(JSON.stringify(payment));
        let node = copy;
        for (const key of path.slice(0, -1)) node = node[key];
        const last = path[path.length - 1]!;
        const unchanged = JSON.stringify(node[last]) === JSON.stringify(value);
        node[last] = value;
        const result = checkPayment(b64(copy), REQUIRED, NOW);
        expectStable(result);
        if (
          !unchanged &&
          !stillValid(
            path,
            value,
            path.reduce((n: any, k) => n[k], payment),
          )
        ) {
          expect("code" in result, `${path.join(".")} = ${JSON.stringify(value)}`).toBe(true);
        }
      }),
      { numRuns: 600 },
    );
  });

  it("refuses an expired authorization at any time after validBefore", () => {
    fc.assert(
      fc.property(validPayment, fc.integer({ min: 0, max: 10 ** 9 }), (payment, lateMs) => {
        const validBeforeMs = Number(payment.payload.authorization.validBefore) * 1000;
        const result = checkPayment(b64(payment), REQUIRED, validBeforeMs + lateMs);
        expect(result).toMatchObject({ code: "payment_expired" });
      }),
      { numRuns: 200 },
    );
  });

  it("decodePayment alone never throws either", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (s) => void decodePayment(s)),
      { numRuns: 300 },
    );
  });
});
