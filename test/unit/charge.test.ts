// The upto charge report parser (src/payments/charge.ts), outside input from a tenant: whatever
// X-Claw-Charge says, the decision never throws, never exceeds the ceiling, never rounds a report
// up against the payer, and names the tenant error of a missing, garbled or too-high report.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CHARGE_HEADER, decideCharge, usdDecimalToAtomic, withoutCharge } from "../../src/payments/charge.ts";
import { decodeUptoPayload } from "../../src/payments/upto-payload.ts";
import { decodePayment, paymentId } from "../../src/payments/payment-header.ts";
import { Buffer } from "node:buffer";

const CEILING = 50_000n; // $0.05 at 6 decimals

describe("decideCharge", () => {
  it("charges a report within the ceiling exactly, at the asset's precision", () => {
    expect(decideCharge("0.0185", CEILING, 6)).toEqual({ atomic: 18_500n, error: null });
    expect(decideCharge(" 0.05 ", CEILING, 6)).toEqual({ atomic: 50_000n, error: null });
    expect(decideCharge("0", CEILING, 6)).toEqual({ atomic: 0n, error: null });
    // Digits below the asset's precision are dropped: never rounded up against the payer.
    expect(decideCharge("0.0000019", CEILING, 6)).toEqual({ atomic: 1n, error: null });
  });

  it("caps a report above the ceiling and names it; a missing or garbled one charges nothing", () => {
    expect(decideCharge("0.050001", CEILING, 6)).toEqual({ atomic: CEILING, error: "upto_charge_capped" });
    expect(decideCharge(null, CEILING, 6)).toEqual({ atomic: 0n, error: "upto_charge_missing" });
    for (const bad of ["", "-0.01", "1e-3", "$0.01", "0x10", "NaN", "0.01 USD", "1,5", ".5"]) {
      expect(decideCharge(bad, CEILING, 6), bad).toEqual({ atomic: 0n, error: "upto_charge_invalid" });
    }
  });

  it("never throws and never exceeds the ceiling, whatever the header says", () => {
    fc.assert(
      fc.property(fc.option(fc.string({ maxLength: 60 })), fc.bigInt({ min: 1n, max: 10n ** 30n }), (raw, cap) => {
        const c = decideCharge(raw, cap, 6);
        expect(c.atomic >= 0n && c.atomic <= cap).toBe(true);
        if (c.error === "upto_charge_missing" || c.error === "upto_charge_invalid") expect(c.atomic).toBe(0n);
      }),
    );
  });

  it("reads any well-formed decimal exactly (round trip through atomic units)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.integer({ min: 0, max: 18 }), (atomic, decimals) => {
        const base = 10n ** BigInt(decimals);
        const whole = (atomic / base).toString();
        const fraction = (atomic % base).toString().padStart(decimals, "0");
        const text = decimals === 0 ? whole : `${whole}.${fraction}`;
        if (whole.length > 15) return; // beyond the 15 whole digits a report may have
        expect(usdDecimalToAtomic(text, decimals)).toBe(atomic);
        const c = decideCharge(text, atomic, decimals);
        expect(c).toEqual({ atomic, error: null });
      }),
    );
  });

  it("strips the report from the delivered headers", () => {
    const h = new Headers({ [CHARGE_HEADER]: "0.01", "content-type": "application/json" });
    const out = withoutCharge(h);
    expect(out.has(CHARGE_HEADER)).toBe(false);
    expect(out.get("content-type")).toBe("application/json");
  });
});

const PERMIT = {
  from: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  permitted: { token: "0x5FbDB2315678afecb367f032d93F642f64180aa3", amount: "50000" },
  spender: "0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002",
  nonce: "123456789012345678901234567890",
  deadline: "1800000000",
  witness: {
    to: "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    facilitator: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    validAfter: "0",
  },
};

describe("upto payload decoding", () => {
  it("normalizes a Permit2 authorization and gives it its own payment id namespace", () => {
    const network = "eip155:84532" as const;
    const accepted = { scheme: "upto", network, asset: PERMIT.permitted.token, amount: "50000" };
    const payload = {
      x402Version: 2,
      accepted: { ...accepted, payTo: PERMIT.witness.to, maxTimeoutSeconds: 60, extra: {} },
      payload: { signature: "0xabcdef", permit2Authorization: PERMIT },
    };
    const header = Buffer.from(JSON.stringify(payload)).toString("base64");
    const decoded = decodePayment(header);
    if ("code" in decoded) throw new Error(decoded.message);
    expect(decoded.scheme).toBe("upto");
    expect(decoded.authorization).toEqual({
      from: PERMIT.from,
      to: PERMIT.witness.to,
      value: "50000",
      validAfter: "0",
      validBefore: "1800000000",
      nonce: PERMIT.nonce,
    });
    const id = paymentId({ ...accepted, payTo: PERMIT.witness.to, maxTimeoutSeconds: 60, extra: {} }, decoded);
    expect(id.endsWith(`:permit2-${PERMIT.nonce}`)).toBe(true);
  });

  it("never throws on arbitrary payloads: decoded or a named problem", () => {
    fc.assert(
      fc.property(fc.anything(), (inner) => {
        const r = decodeUptoPayload({ x402Version: 2, payload: inner } as never);
        expect("code" in r ? r.code : r.scheme).toMatch(/^(invalid_payment_header|upto)$/);
      }),
    );
  });
});
