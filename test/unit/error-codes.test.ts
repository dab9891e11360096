// The one error-code table: every code has its status(es), the x402 402 codes are exactly the
// ones a challenge carries, and ApiError refuses, at compile time, a status that is not its code's
// (the @ts-expect-error lines fail `tsc` if that check ever stops working).
import { describe, expect, it } from "vitest";
import { ERROR_CODES, isErrorCode, statusesOf, type ErrorCode } from "../../src/http/error-codes.ts";
import { ApiError, apiError, errorResponse, withHeaders } from "../../src/http/errors.ts";

describe("error codes", () => {
  it("gives every code statuses from 400 to 599", () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      for (const status of statusesOf(code)) expect(status >= 400 && status < 600, code).toBe(true);
    }
  });

  it("answers the meter's refusals and the payment flow with their one status", () => {
    const expected: Record<string, number> = {
      rate_limited: 429,
      quota_exceeded: 429,
      tenant_not_found: 404,
      tenant_not_configured: 503,
      payment_in_flight: 409,
      idempotency_key_conflict: 409,
      settlement_pending: 503,
      facilitator_unavailable: 503,
      payments_unavailable: 503,
      missing_secret: 400,
    };
    for (const [code, status] of Object.entries(expected))
      expect(statusesOf(code as ErrorCode), code).toEqual([status]);
    const challenges = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => statusesOf(c).includes(402));
    expect(challenges.sort()).toEqual(
      [
        "payment_required",
        "invalid_payment_header",
        "unsupported_x402_version",
        "payment_mismatch",
        "payment_expired",
        "payment_invalid",
        "spend_cap_exceeded",
        "settlement_failed",
      ].sort(),
    );
  });

  it("knows only its own codes", () => {
    expect(isErrorCode("rate_limited")).toBe(true);
    for (const other of ["RATE_LIMITED", "", "toString", 429, null]) expect(isErrorCode(other)).toBe(false);
  });

  it("builds ApiErrors whose status is the code's, and the envelope from them", async () => {
    expect(apiError("quota_exceeded", "x").status).toBe(429);
    // @ts-expect-error 404 is not rate_limited's status
    void new ApiError(404, "rate_limited", "x");
    // @ts-expect-error not a code in the table
    void new ApiError(400, "no_such_code", "x");
    const err = withHeaders(new ApiError(429, "rate_limited", "slow down"), { "retry-after": "3" });
    const res = errorResponse(err, "req_1");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("3");
    expect(await res.json()).toEqual({ error: { code: "rate_limited", message: "slow down" }, requestId: "req_1" });
  });
});
