// Pure reconciliation decisions for pending settlements and for orphaned in-flight payments.

import { describe, expect, it } from "vitest";
import { decideReconcile, isExpired } from "../../objects/meter/reconcile-decision.ts";
import { provesNonceUnused, saysNonceUsed } from "../../src/x402/nonce-rule.ts";
import { DAY, FUTURE, HOUR, NOW, PAST } from "../support/payment-clock.ts";

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
