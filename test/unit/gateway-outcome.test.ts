// What a call result means for stats and ranking, spelled out per result kind and per failure:
// only the tenant's own 5xx, crash and timeout are `tenant_error`; the caller's and the platform's
// doing never is (issue 9 item 3).
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/http/errors.ts";
import { challengeOutcome, failureOutcome, recordedOf } from "../../src/gateway/outcome.ts";
import { OUTCOME_TRAITS } from "../../objects/shared/outcomes.ts";
import type { CallResult } from "../../src/gateway/result.ts";

const stored = { status: 200, headers: {}, bodyBase64: "", bodyOmitted: false };
const served = (status: number): CallResult => ({
  kind: "served",
  response: new Response(null, { status }),
  limitHeaders: {},
  payer: null,
});

describe("gateway outcomes", () => {
  it("a tenant's answer is served below 500 and its own failure from 500 on", () => {
    for (const status of [200, 204, 301, 400, 404, 405, 413, 499])
      expect(recordedOf(served(status))).toMatchObject({ outcome: "served", status });
    for (const status of [500, 502, 503, 504])
      expect(recordedOf(served(status))).toMatchObject({ outcome: "tenant_error", status });
  });

  it("a runtime throw is the tenant's only for its crash and its timeout", () => {
    expect(failureOutcome(new ApiError(502, "tenant_worker_failure", "x"))).toEqual({
      outcome: "tenant_error",
      status: 502,
    });
    expect(failureOutcome(new ApiError(504, "tenant_timeout", "x"))).toEqual({ outcome: "tenant_error", status: 504 });
    expect(failureOutcome(new ApiError(404, "tenant_not_deployed", "x"))).toEqual({
      outcome: "platform_error",
      status: 404,
    });
    expect(failureOutcome(new ApiError(503, "dataset_unavailable", "x"))).toEqual({
      outcome: "platform_error",
      status: 503,
    });
    expect(failureOutcome(new TypeError("Invalid URL string."))).toEqual({ outcome: "platform_error", status: 500 });
    expect(failureOutcome(new ApiError(413, "payload_too_large", "x"))).toEqual({
      outcome: "request_rejected",
      status: 413,
    });
    expect(failureOutcome(new ApiError(400, "invalid_request", "x"))).toEqual({
      outcome: "request_rejected",
      status: 400,
    });
  });

  it("nothing the caller, the payer or the platform caused ranks as a failure", () => {
    const results: CallResult[] = [
      served(404),
      { kind: "tenant_failed", error: new Error("ours"), limitHeaders: {}, payer: null },
      { kind: "tenant_failed", error: new ApiError(413, "payload_too_large", "x"), limitHeaders: {}, payer: null },
      { kind: "challenge", code: "settlement_failed", message: "x", payer: "0xabc" },
      { kind: "challenge", code: "payment_invalid", message: "x", payer: null },
      { kind: "refused", error: new ApiError(429, "rate_limited", "x"), payer: null },
      { kind: "replayed", stored, transaction: null, payer: "0xabc" },
    ];
    for (const r of results) {
      const recorded = recordedOf(r);
      expect(recorded && OUTCOME_TRAITS[recorded.outcome].rank, r.kind).not.toBe("failure");
    }
  });

  it("records limits, challenges, replays and settlements; not what is not about the API", () => {
    expect(recordedOf({ kind: "refused", error: new ApiError(429, "quota_exceeded", "x"), payer: null })).toEqual({
      outcome: "quota_exceeded",
      status: 429,
      labelled: true,
    });
    expect(
      recordedOf({ kind: "refused", error: new ApiError(503, "facilitator_unavailable", "x"), payer: null }),
    ).toBeNull();
    expect(
      recordedOf({ kind: "refused", error: new ApiError(409, "payment_in_flight", "x"), payer: "0xabc" }),
    ).toBeNull();
    expect(recordedOf({ kind: "pending", payer: "0xabc" })).toBeNull();
    expect(recordedOf({ kind: "replayed", stored, transaction: "0x1", payer: "0xabc" })).toEqual({
      outcome: "payment_replayed",
      status: 200,
      labelled: false,
    });
    const settled: CallResult = {
      kind: "settled",
      status: 200,
      statusText: "",
      headers: new Headers(),
      body: null,
      timing: "",
      payer: "0xabc",
    };
    expect(recordedOf(settled)).toEqual({ outcome: "payment_settled", status: 200, labelled: true });
  });

  it("maps every 402 code to its lifecycle", () => {
    expect(challengeOutcome("payment_required")).toBe("payment_challenged");
    expect(challengeOutcome("spend_cap_exceeded")).toBe("spend_cap_exceeded");
    expect(challengeOutcome("settlement_failed")).toBe("settlement_failed");
    for (const code of [
      "invalid_payment_header",
      "unsupported_x402_version",
      "payment_mismatch",
      "payment_expired",
      "payment_invalid",
    ] as const) {
      expect(challengeOutcome(code)).toBe("payment_invalid");
    }
  });
});
