// The one outcome vocabulary: every derived set, spelled out, so a change to a trait is a
// deliberate, visible change to what the meter counts and what the Leaderboard ranks.
import { describe, expect, it } from "vitest";
import { isCountable, isOutcome, OUTCOMES, outcomesWhere } from "../../objects/shared/outcomes.ts";

describe("call outcomes", () => {
  it("derives the meter's non-calls and refused stat", () => {
    expect(outcomesWhere((t) => !t.call)).toEqual(["payment_replayed", "payment_challenged", "payment_invalid"]);
    expect(outcomesWhere((t) => t.refusedStat)).toEqual([
      "rate_limited",
      "quota_exceeded",
      "spend_cap_exceeded",
      "settlement_failed",
      "request_rejected",
    ]);
  });

  it("derives the Leaderboard's kinds", () => {
    expect(outcomesWhere((t) => t.rank === "refusal")).toEqual([
      "payment_invalid",
      "rate_limited",
      "quota_exceeded",
      "spend_cap_exceeded",
      "settlement_failed",
      "request_rejected",
    ]);
    // Only the tenant's own failures count against it; the payer's and the platform's never do.
    expect(outcomesWhere((t) => t.rank === "failure")).toEqual(["tenant_error"]);
    expect(outcomesWhere((t) => t.rank === "other")).toEqual(["platform_error"]);
    expect(outcomesWhere((t) => t.rank === "countable")).toEqual(["served", "payment_settled"]);
    expect(outcomesWhere((t) => t.billable)).toEqual(["payment_settled"]);
  });

  it("counts settled paid calls and served free calls only", () => {
    expect(OUTCOMES.filter((o) => isCountable(o, "0"))).toEqual(["served", "payment_settled"]);
    expect(OUTCOMES.filter((o) => isCountable(o, "1000"))).toEqual(["payment_settled"]);
  });

  it("recognises only its own words", () => {
    expect(OUTCOMES.every(isOutcome)).toBe(true);
    for (const other of ["paid", "SERVED", "", null, 3, "toString"]) expect(isOutcome(other)).toBe(false);
  });
});
