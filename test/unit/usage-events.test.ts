import { describe, expect, it } from "vitest";
import * as v from "valibot";
import { usageEventFor, UsageEventSchema, type EventContext } from "../../objects/shared/usage-event.ts";
import { isCountable, OUTCOMES as LIFECYCLES } from "../../objects/shared/outcomes.ts";

const paid: EventContext = {
  apiId: "weather",
  owner: "cr_1",
  directory: "geo",
  network: "eip155:84532",
  env: "test",
  priceAtomic: "1000",
};
const free: EventContext = { ...paid, priceAtomic: "0" };

describe("usage events", () => {
  it("counts only settled paid calls and served calls of free APIs", () => {
    const countable = LIFECYCLES.filter((l) => isCountable(l, "1000"));
    expect(countable).toEqual(["payment_settled"]);
    expect(LIFECYCLES.filter((l) => isCountable(l, "0"))).toEqual(["served", "payment_settled"]);
  });

  it("bills only settlements, with the settled amount", () => {
    const settled = usageEventFor(
      {
        requestId: "r1",
        ts: 1,
        caller: "0xABC",
        status: 200,
        latencyMs: 12,
        lifecycle: "payment_settled",
        billedAtomic: "1000",
      },
      paid,
    );
    expect(settled).toMatchObject({ billable: true, countable: true, billedAtomic: "1000", caller: "0xabc" });
    const replay = usageEventFor(
      { requestId: "r2", ts: 1, caller: "0xabc", status: 200, latencyMs: 3, lifecycle: "payment_replayed" },
      paid,
    );
    expect(replay).toMatchObject({ billable: false, countable: false, billedAtomic: "0" });
    const challenge = usageEventFor(
      { requestId: "r3", ts: 1, caller: "ip:ab", status: 402, latencyMs: 1, lifecycle: "payment_challenged" },
      paid,
    );
    expect(challenge.countable).toBe(false);
  });

  it("always produces events the Leaderboard accepts", () => {
    for (const lifecycle of LIFECYCLES) {
      for (const context of [paid, free]) {
        const event = usageEventFor(
          {
            requestId: `r-${lifecycle}`,
            ts: 1_700_000_000_000.7,
            caller: "ip:x",
            status: 99,
            latencyMs: -5,
            lifecycle,
          },
          context,
        );
        expect(v.safeParse(UsageEventSchema, event).success, lifecycle).toBe(true);
      }
    }
  });

  it("carries the request fingerprint of a challenge only", () => {
    const base = { requestId: "r9", ts: 1, caller: "ip:x", status: 402, latencyMs: 1, fingerprint: "v1:ab" };
    const challenged = usageEventFor({ ...base, lifecycle: "payment_challenged" }, paid);
    expect(challenged.fingerprint).toBe("v1:ab");
    expect(v.parse(UsageEventSchema, challenged)).toEqual(challenged);
    expect(usageEventFor({ ...base, lifecycle: "payment_invalid" }, paid)).not.toHaveProperty("fingerprint");
    const without = usageEventFor({ ...base, fingerprint: undefined, lifecycle: "payment_challenged" }, paid);
    expect(without).not.toHaveProperty("fingerprint");
    expect(v.safeParse(UsageEventSchema, { ...challenged, fingerprint: "x".repeat(129) }).success).toBe(false);
  });
});
