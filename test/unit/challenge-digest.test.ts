// The shard's challenge keys (objects/leaderboard/challenge-keys.ts) are digests of (API, caller,
// fingerprint): equal for the same challenged request (a payer address in any letter case),
// different when any part differs, and a fixed 16 base64url characters.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { challengeDigest } from "../../objects/leaderboard/challenge-keys.ts";

const FP = `v1:${"ab".repeat(32)}`;
const PAYER = "0xAbCdEf0000000000000000000000000000000001";

describe("challengeDigest", () => {
  it("is 16 base64url characters, and one payer in any letter case is one caller", () => {
    const d = challengeDigest("cities", PAYER, FP);
    expect(d).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(challengeDigest("cities", PAYER.toLowerCase(), FP)).toBe(d);
    expect(challengeDigest("cities", `0x${PAYER.slice(2).toUpperCase()}`, FP)).toBe(d);
  });

  it("tells apart keys that differ in any part, including where one part ends", () => {
    const part = fc.string({ minLength: 1, maxLength: 24 }).filter((s) => !s.includes("\u0000"));
    const key = fc.tuple(
      part,
      part.map((s) => `ip:${s}`),
      part,
    );
    fc.assert(
      fc.property(key, key, ([a1, c1, f1], [a2, c2, f2]) => {
        fc.pre(a1 !== a2 || c1 !== c2 || f1 !== f2);
        expect(challengeDigest(a1, c1, f1)).not.toBe(challengeDigest(a2, c2, f2));
      }),
      { numRuns: 500 },
    );
    // Moving a character across a boundary makes another key.
    expect(challengeDigest("ab", "ip:c", FP)).not.toBe(challengeDigest("a", "bip:c", FP));
  });
});
