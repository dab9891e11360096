// Pure payment rules: backoff schedules, record lifetimes, stored-response capping, facilitator responses.

import { describe, expect, it } from "vitest";
import { MAX_STORED_BODY_BYTES } from "../../objects/meter/types.ts";
import {
  flushBackoffMs,
  IN_FLIGHT_CHECK_AFTER_MS,
  inFlightCheckAtMs,
  lastChanceAtMs,
  nextReconcileAtMs,
  reconcileBackoffMs,
  settledPruneAtMs,
  staleAtMs,
} from "../../objects/meter/payment-rules.ts";
import { askSettle, askVerify, toSettleOutcome, toVerifyOutcome } from "../../objects/meter/reconcile-decision.ts";
import { base64DecodedLength, capStoredResponse, reconciledResponse } from "../../objects/meter/stored-response.ts";
import {
  type Facilitator,
  FacilitatorUnavailable,
  facilitatorBody,
  parseSettlement,
  parseVerification,
  SettlementUnknown,
} from "../../src/x402/facilitator.ts";
import { DAY, FUTURE, NOW, PAST } from "../support/payment-clock.ts";

describe("schedules and lifetimes", () => {
  it("orphan check: 40 s after the admit, sooner if validBefore is close, never before 5 s", () => {
    // A standard x402 payment: signed just before the call with validBefore = now + 60 s.
    expect(inFlightCheckAtMs(NOW, NOW / 1000 + 60)).toBe(NOW + IN_FLIGHT_CHECK_AFTER_MS);
    expect(IN_FLIGHT_CHECK_AFTER_MS).toBe(40_000);
    // 40 s is before its last chance (validBefore − 10 s): retries still fit in between.
    expect(inFlightCheckAtMs(NOW, NOW / 1000 + 60)).toBeLessThan(lastChanceAtMs(NOW / 1000 + 60));
    // Signed 30 s before it was sent: checked at its last chance.
    expect(inFlightCheckAtMs(NOW, NOW / 1000 + 30)).toBe(NOW + 20_000);
    // Nearly expired: not before 5 s (a live dispatcher is usually done by then).
    expect(inFlightCheckAtMs(NOW, NOW / 1000 + 12)).toBe(NOW + 5000);
    // A long-lived authorization is not held for its whole life.
    expect(inFlightCheckAtMs(NOW, NOW / 1000 + 86_400)).toBe(NOW + 40_000);
  });

  it("flush backoff: 1 s doubling to 60 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 100].map(flushBackoffMs)).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
    expect(flushBackoffMs(0)).toBe(1000);
  });

  it("reconcile backoff: 2 s doubling to 5 min, never past the last chance before validBefore", () => {
    expect([0, 1, 2, 7, 8, 50].map(reconcileBackoffMs)).toEqual([2000, 4000, 8000, 256_000, 300_000, 300_000]);
    expect(nextReconcileAtMs(NOW, 0, FUTURE)).toBe(NOW + 2000);
    expect(nextReconcileAtMs(NOW, 10, FUTURE)).toBe(FUTURE * 1000 - 10_000);
    expect(nextReconcileAtMs(NOW, 10, PAST)).toBe(NOW + 300_000);
  });

  it("stale in-flight time and settled retention (a day to a week, covering validBefore)", () => {
    expect(staleAtMs(1000)).toBe(1_060_000);
    expect(settledPruneAtMs(NOW, FUTURE)).toBe(NOW + DAY);
    expect(settledPruneAtMs(NOW, NOW / 1000 + 3 * 86_400)).toBe(NOW + 3 * DAY + 60_000);
    expect(settledPruneAtMs(NOW, NOW / 1000 + 365 * 86_400)).toBe(NOW + 7 * DAY);
  });
});

describe("stored responses", () => {
  it("keeps bodies up to 1 MiB and omits larger ones", () => {
    const exactly = btoa("x".repeat(MAX_STORED_BODY_BYTES));
    expect(base64DecodedLength(exactly)).toBe(MAX_STORED_BODY_BYTES);
    expect(capStoredResponse({ status: 200, headers: {}, bodyBase64: exactly, bodyOmitted: false }).bodyBase64).toBe(
      exactly,
    );
    const over = btoa("x".repeat(MAX_STORED_BODY_BYTES + 1));
    expect(capStoredResponse({ status: 201, headers: { a: "b" }, bodyBase64: over, bodyOmitted: false })).toEqual({
      status: 201,
      headers: { a: "b" },
      bodyBase64: null,
      bodyOmitted: true,
    });
    expect(base64DecodedLength("YQ==")).toBe(1);
    expect(base64DecodedLength("YWI=")).toBe(2);
    expect(base64DecodedLength("YWJj")).toBe(3);
  });

  it("normalises junk instead of throwing", () => {
    expect(capStoredResponse(null)).toEqual({ status: 200, headers: {}, bodyBase64: null, bodyOmitted: false });
    expect(capStoredResponse({ status: 99_999, headers: { ok: "1", n: 5 }, bodyBase64: 7 })).toEqual({
      status: 200,
      headers: { ok: "1" },
      bodyBase64: null,
      bodyOmitted: false,
    });
    expect(capStoredResponse({ status: 200, headers: { big: "x".repeat(40_000), small: "y" } }).headers).toEqual({});
  });

  it("a reconciled settlement replays a small JSON receipt", () => {
    const r = reconciledResponse("0xabc");
    expect(r.status).toBe(200);
    expect(JSON.parse(atob(r.bodyBase64!))).toEqual({ settled: true, transaction: "0xabc" });
  });
});

describe("facilitator responses", () => {
  it("parses verify and settle, treating junk as unreachable", () => {
    expect(toVerifyOutcome(parseVerification({ isValid: true, payer: "0x1" }))).toEqual({ ok: true, isValid: true });
    expect(toVerifyOutcome(parseVerification({ isValid: false, invalidReason: "x" }))).toEqual({
      ok: true,
      isValid: false,
      invalidReason: "x",
    });
    expect(toVerifyOutcome(parseVerification({ error: { code: "bad" } }))).toEqual({ ok: false });
    expect(toVerifyOutcome(parseVerification(null))).toEqual({ ok: false });
    expect(toSettleOutcome(parseSettlement({ success: true, transaction: "0xt", network: "eip155:1" }))).toEqual({
      ok: true,
      success: true,
      transaction: "0xt",
    });
    expect(toSettleOutcome(parseSettlement({ success: false, errorReason: "r", transaction: "" }))).toEqual({
      ok: true,
      success: false,
      errorReason: "r",
      transaction: "",
    });
    expect(toSettleOutcome(parseSettlement("nope"))).toEqual({ ok: false });
  });

  it("builds the request body with the payload's x402 version", () => {
    expect(facilitatorBody({ x402Version: 2, payload: {} }, { scheme: "exact" })).toEqual({
      x402Version: 2,
      paymentPayload: { x402Version: 2, payload: {} },
      paymentRequirements: { scheme: "exact" },
    });
    expect(facilitatorBody("odd", {}).x402Version).toBe(2);
  });
});

describe("asking the facilitator for a reconciliation", () => {
  const material = { paymentPayload: { x402Version: 2 }, paymentRequirements: { scheme: "exact" } };

  it("passes the stored material and maps the answers", async () => {
    const seen: unknown[][] = [];
    const facilitator: Facilitator = {
      verify: async (payload, requirements) => (
        seen.push([payload, requirements]), { isValid: false, invalidReason: "nonce_used", payer: "0x1" }
      ),
      settle: async () => ({ success: true, transaction: "0xt", network: "eip155:1" }),
      supports: async () => true,
    };
    expect(await askVerify(facilitator, material)).toEqual({ ok: true, isValid: false, invalidReason: "nonce_used" });
    expect(await askSettle(facilitator, material)).toEqual({ ok: true, success: true, transaction: "0xt" });
    expect(seen).toEqual([[material.paymentPayload, material.paymentRequirements]]);
  });

  it("turns the client's throws (and any other) into unreachable", async () => {
    const throwing: Facilitator = {
      verify: async () => {
        throw new FacilitatorUnavailable("down");
      },
      settle: async () => {
        throw new SettlementUnknown("timeout");
      },
      supports: async () => true,
    };
    expect(await askVerify(throwing, material)).toEqual({ ok: false });
    expect(await askSettle(throwing, material)).toEqual({ ok: false });
    const broken = { ...throwing, verify: async () => Promise.reject(new TypeError("bug")) } as Facilitator;
    expect(await askVerify(broken, material)).toEqual({ ok: false });
  });
});
