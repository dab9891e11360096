import { describe, expect, it } from "vitest";
import { slugProblem } from "../../src/config/slug.ts";

describe("slugProblem", () => {
  it("accepts well-formed slugs", () => {
    for (const s of ["abc", "weather-data", "a1-b2-c3", "x".repeat(40)]) expect(slugProblem(s)).toBeNull();
  });
  it("names the problem", () => {
    expect(slugProblem("ab")).toBe("too_short");
    expect(slugProblem("x".repeat(41))).toBe("too_long");
    expect(slugProblem("Weather")).toBe("bad_characters");
    expect(slugProblem("a--b")).toBe("bad_characters");
    expect(slugProblem("-abc")).toBe("bad_characters");
    expect(slugProblem("../etc")).toBe("bad_characters");
    expect(slugProblem("admin")).toBe("reserved");
  });
});
