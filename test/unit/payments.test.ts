// Pure payment-lifecycle decisions: reconciliation of pending settlements and of orphaned
// in-flight payments, backoff schedules, record lifetimes, stored-response capping and
// facilitator response parsing.
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
import {
  askSettle,
  askVerify,
  decideReconcile,
  isExpired,
  toSettleOutcome,
  toVerifyOutcome,
} from "../../objects/meter/reconcile-decision.ts";
import { base64DecodedLength, capStoredResponse, reconciledResponse } from "../../objects/meter/stored-response.ts";
import {
  type Facilitator,
  FacilitatorUnavailable,
  facilitatorBody,
  parseSettlement,
  parseVerification,
  SettlementUnknown,
} from "../../src/x402/facilitator.ts";
import { provesNonceUnused, saysNonceUsed } from "../../src/x402/nonce-rule.ts";

const NOW = Date.UTC(2027, 0, 15, 12, 0, 0);
const FUTURE = NOW / 1000 + 300; // validBefore 5 min ahead
const PAST = NOW / 1000 - 600; // expired 10 min ago
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("decideReconcile", () => {
  const base = { now: NOW, validBefore: FUTURE };

  it("retries while the facilitator cannot be reached", () => {
    expect(decideReconcile({ ...base, verify: { ok: false } })).toMatchObject({ action: "retry" });
    expect(decideReconcile({ now: NOW, validBefore: PAST, verify: { ok: false } })).toMatchObject({ action: "retry" });
    // ... but not forever once the payment is long dead.
    expect(decideReconcile({ now: NOW + 8 * DAY, validBefore: PAST, verify: { ok: false } })).toMatchObject({
      action: "hold",
    });
  });

  it("a valid payload is settled; success commits with that transaction", () => {
    expect(decideReconcile({ ...base, verify: { ok: true, isValid: true } })).toEqual({ action: "settle" });
    expect(
      decideReconcile({
        ...base,
        verify: { ok: true, isValid: true },
        settle: { ok: true, success: true, transaction: "0xabc" },
      }),
    ).toEqual({
      action: "commit",
      transaction: "0xabc",
    });
  });

  it("a used nonce means the transfer happened: commit without (or with the known) transaction", () => {
    for (const reason of ["invalid_exact_evm_nonce_already_used", "authorization_used", "nonce_used"]) {
      expect(decideReconcile({ ...base, verify: { ok: true, isValid: false, invalidReason: reason } })).toEqual({
        action: "commit",
        transaction: null,
      });
    }
    expect(
      decideReconcile({
        ...base,
        knownTransaction: "0xseen",
        verify: { ok: true, isValid: false, invalidReason: "invalid_exact_evm_nonce_already_used" },
      }),
    ).toEqual({ action: "commit", transaction: "0xseen" });
    // Also when the used nonce is found by /settle (the first transaction landed in between).
    expect(
      decideReconcile({
        ...base,
        verify: { ok: true, isValid: true },
        settle: { ok: true, success: false, errorReason: "authorization_used" },
      }),
    ).toEqual({
      action: "commit",
      transaction: null,
    });
  });

  it("a failed or unreachable settle retries (the next verify tells), remembering a broadcast hash", () => {
    expect(decideReconcile({ ...base, verify: { ok: true, isValid: true }, settle: { ok: false } })).toMatchObject({
      action: "retry",
    });
    expect(
      decideReconcile({
        ...base,
        verify: { ok: true, isValid: true },
        settle: { ok: true, success: false, errorReason: "settlement_pending", transaction: "0xpending" },
      }),
    ).toMatchObject({ action: "retry", transaction: "0xpending" });
    expect(
      decideReconcile({
        ...base,
        verify: { ok: true, isValid: true },
        settle: { ok: true, success: false, errorReason: "invalid_exact_evm_transaction_failed" },
      }),
    ).toMatchObject({ action: "retry" });
  });

  it("an invalid payload that has not expired is retried (balance may come back, the first tx may still land)", () => {
    expect(
      decideReconcile({
        ...base,
        verify: { ok: true, isValid: false, invalidReason: "invalid_exact_evm_insufficient_balance" },
      }),
    ).toMatchObject({ action: "retry" });
    // The facilitator says expired (its +6 s margin) before our clock does: still retry.
    expect(
      decideReconcile({
        now: NOW,
        validBefore: NOW / 1000 + 3,
        verify: { ok: true, isValid: false, invalidReason: "invalid_exact_evm_payload_authorization_valid_before" },
      }),
    ).toMatchObject({ action: "retry" });
  });

  it("expired and provably unused → release; expired and unknowable → hold", () => {
    expect(
      decideReconcile({
        now: NOW,
        validBefore: PAST,
        verify: { ok: true, isValid: false, invalidReason: "invalid_exact_evm_insufficient_balance" },
      }),
    ).toMatchObject({
      action: "release",
    });
    // x402 checks validBefore before the nonce: "expired" says nothing about whether it settled.
    expect(
      decideReconcile({
        now: NOW,
        validBefore: PAST,
        verify: { ok: true, isValid: false, invalidReason: "invalid_exact_evm_payload_authorization_valid_before" },
      }),
    ).toMatchObject({ action: "hold" });
    expect(decideReconcile({ now: NOW, validBefore: PAST, verify: { ok: true, isValid: false } })).toMatchObject({
      action: "hold",
    });
    // A used nonce wins over expiry.
    expect(
      decideReconcile({
        now: NOW,
        validBefore: PAST,
        verify: { ok: true, isValid: false, invalidReason: "nonce_already_used" },
      }),
    ).toMatchObject({
      action: "commit",
    });
  });

  it("classifies reasons", () => {
    expect(saysNonceUsed("invalid_exact_evm_nonce_already_used")).toBe(true);
    expect(saysNonceUsed("authorization_used")).toBe(true);
    expect(saysNonceUsed("nonce_unused")).toBe(false);
    expect(saysNonceUsed("caused_by_something")).toBe(false);
    expect(saysNonceUsed(undefined)).toBe(false);
    expect(provesNonceUnused("invalid_exact_evm_insufficient_balance")).toBe(true);
    expect(provesNonceUnused("invalid_exact_evm_payload_authorization_valid_before")).toBe(false);
    expect(isExpired(NOW, NOW / 1000)).toBe(false); // within the 60 s grace
    expect(isExpired(NOW + 60_001, NOW / 1000)).toBe(true);
  });
});

describe("decideReconcile for an orphaned in-flight payment (never settled by us)", () => {
  const base = { phase: "in_flight" as const, now: NOW, validBefore: FUTURE };
  const used = "invalid_exact_evm_nonce_already_used";
  const expiredReason = "invalid_exact_evm_payload_authorization_valid_before";

  it("nonce used → commit: the dispatcher's settle went through, the ledger must get it", () => {
    expect(decideReconcile({ ...base, verify: { ok: true, isValid: false, invalidReason: used } })).toEqual({
      action: "commit",
      transaction: null,
    });
    expect(
      decideReconcile({
        ...base,
        knownTransaction: "0xknown",
        verify: { ok: true, isValid: false, invalidReason: used },
      }),
    ).toEqual({ action: "commit", transaction: "0xknown" });
    // Also after expiry (a used nonce is a fact, whatever the clock says).
    expect(
      decideReconcile({
        ...base,
        now: NOW,
        validBefore: PAST,
        verify: { ok: true, isValid: false, invalidReason: used },
      }),
    ).toMatchObject({ action: "commit" });
  });

  it("valid, or provably unused → release (the payer was never charged), never settle", () => {
    expect(decideReconcile({ ...base, verify: { ok: true, isValid: true } })).toMatchObject({ action: "release" });
    expect(
      decideReconcile({
        ...base,
        verify: { ok: true, isValid: false, invalidReason: "invalid_exact_evm_insufficient_balance" },
      }),
    ).toMatchObject({ action: "release" });
    // The same answers for a pending settlement mean something else (settle it / wait).
    expect(decideReconcile({ now: NOW, validBefore: FUTURE, verify: { ok: true, isValid: true } })).toEqual({
      action: "settle",
    });
    expect(
      decideReconcile({
        phase: "settlement_pending",
        now: NOW,
        validBefore: FUTURE,
        verify: { ok: true, isValid: true },
      }),
    ).toEqual({ action: "settle" });
  });

  it("unreachable → retry; other reasons before expiry → retry", () => {
    expect(decideReconcile({ ...base, verify: { ok: false } })).toMatchObject({ action: "retry" });
    expect(
      decideReconcile({
        ...base,
        verify: { ok: true, isValid: false, invalidReason: "invalid_exact_evm_simulation_failed" },
      }),
    ).toMatchObject({ action: "retry" });
    // The facilitator's +6 s margin says expired before our clock does (within grace): retry.
    expect(
      decideReconcile({
        ...base,
        validBefore: NOW / 1000 + 3,
        verify: { ok: true, isValid: false, invalidReason: expiredReason },
      }),
    ).toMatchObject({ action: "retry" });
  });

  it("expired while unknown → hold, never a blind release", () => {
    expect(
      decideReconcile({
        ...base,
        validBefore: PAST,
        verify: { ok: true, isValid: false, invalidReason: expiredReason },
      }),
    ).toMatchObject({ action: "hold" });
    expect(decideReconcile({ ...base, validBefore: PAST, verify: { ok: true, isValid: false } })).toMatchObject({
      action: "hold",
    });
    expect(decideReconcile({ ...base, validBefore: PAST, verify: { ok: false } })).toMatchObject({ action: "retry" });
    expect(decideReconcile({ ...base, now: NOW + 8 * DAY, validBefore: PAST, verify: { ok: false } })).toMatchObject({
      action: "hold",
    });
  });

  it("no answer ever makes it settle", () => {
    const verifies = [
      { ok: false as const },
      { ok: true as const, isValid: true },
      ...[
        "invalid_exact_evm_nonce_already_used",
        "invalid_exact_evm_insufficient_balance",
        expiredReason,
        "invalid_exact_evm_simulation_failed",
        undefined,
      ].map((invalidReason) =>
        invalidReason === undefined
          ? { ok: true as const, isValid: false }
          : { ok: true as const, isValid: false, invalidReason },
      ),
    ];
    for (const now of [NOW, NOW + HOUR, NOW + 8 * DAY]) {
      for (const validBefore of [FUTURE, PAST]) {
        for (const verify of verifies)
          expect(decideReconcile({ phase: "in_flight", now, validBefore, verify }).action).not.toBe("settle");
      }
    }
  });
});

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
