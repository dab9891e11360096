// What the chain's answer does to a reconciliation decision, and how a payment id names its
// EIP-3009 authorization. Pure.
import { describe, expect, it } from "vitest";
import { authorizationOf, chainCanHelp, decideWithChain } from "../../objects/meter/chain.ts";

const NOW = Date.UTC(2027, 0, 15, 12, 0, 0);
const FUTURE = NOW / 1000 + 300;
const PAST = NOW / 1000 - 600;
const HOLD = { action: "hold" as const, reason: "expired" };

describe("authorizationOf", () => {
  it("reads asset, authorizer and nonce from the right of the id (the network holds a colon)", () => {
    const asset = "0x" + "d".repeat(40);
    const from = "0x" + "a".repeat(40);
    const nonce = "0x" + "1".repeat(64);
    expect(authorizationOf(`eip155:84532:${asset}:${from}:${nonce}`)).toEqual({ asset, authorizer: from, nonce });
    expect(authorizationOf(`eip155:84532:${asset}:${from}:0x12`)).toBeNull();
    expect(authorizationOf(`${asset}:${from}:${nonce}`)).toBeNull();
    expect(authorizationOf(`eip155:1:nope:${from}:${nonce}`)).toBeNull();
  });
});

describe("decideWithChain", () => {
  it("a used authorization is committed with its transaction, whatever the facilitator said", () => {
    const used = { state: "used" as const, transaction: "0xt" };
    expect(decideWithChain(HOLD, used, NOW, PAST)).toEqual({ action: "commit", transaction: "0xt" });
    expect(decideWithChain({ action: "commit", transaction: null }, used, NOW, FUTURE)).toEqual({
      action: "commit",
      transaction: "0xt",
    });
  });

  it("an unused one is released only once expired, and never turns a commit into a release", () => {
    const unused = { state: "unused" as const };
    expect(decideWithChain(HOLD, unused, NOW, PAST)).toMatchObject({ action: "release" });
    expect(decideWithChain({ action: "retry", reason: "x" }, unused, NOW, FUTURE)).toEqual({
      action: "retry",
      reason: "x",
    });
    // Within the clock-skew grace after validBefore it is not expired yet.
    expect(decideWithChain(HOLD, unused, NOW, NOW / 1000 - 30)).toEqual(HOLD);
    expect(decideWithChain({ action: "commit", transaction: null }, unused, NOW, PAST)).toEqual({
      action: "commit",
      transaction: null,
    });
  });

  it("unknown changes nothing", () => {
    expect(decideWithChain(HOLD, { state: "unknown" }, NOW, PAST)).toEqual(HOLD);
  });
});

describe("chainCanHelp", () => {
  it("asks the chain only where the facilitator could not decide", () => {
    expect(chainCanHelp(HOLD, NOW, PAST)).toBe(true);
    expect(chainCanHelp({ action: "commit", transaction: null }, NOW, FUTURE)).toBe(true);
    expect(chainCanHelp({ action: "commit", transaction: "0xt" }, NOW, FUTURE)).toBe(false);
    expect(chainCanHelp({ action: "retry", reason: "unreachable" }, NOW, PAST)).toBe(true);
    expect(chainCanHelp({ action: "retry", reason: "unreachable" }, NOW, FUTURE)).toBe(false);
    expect(chainCanHelp({ action: "release", reason: "unused" }, NOW, PAST)).toBe(false);
  });
});
