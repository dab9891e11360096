// The public API's query-parameter parser (src/public/query.ts) on arbitrary input: it returns a
// value the documented schema accepts, or throws a 400 ApiError with a stable code naming the
// parameter; nothing else (no 5xx, no other exception).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ApiError } from "../../src/http/errors.ts";
import { DISCOVERY_QUERY, LEADERBOARD_QUERY, parseQuery, TOP_MAX } from "../../src/public/query.ts";

function outcome(query: Record<string, string>, spec: typeof LEADERBOARD_QUERY | typeof DISCOVERY_QUERY) {
  try {
    return { ok: parseQuery(new URLSearchParams(query), spec) as Record<string, unknown> };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { err };
  }
}

describe("parseQuery", () => {
  it("defaults for absent or empty parameters", () => {
    const board = parseQuery(new URLSearchParams("q=%20"), LEADERBOARD_QUERY);
    expect(board).toEqual({ window: "week", top: 20, directory: null, q: null });
    const list = parseQuery(new URLSearchParams("limit=&type="), DISCOVERY_QUERY);
    expect(list).toEqual({ type: null, limit: 20, offset: 0 });
  });

  it("top: exactly the integers 1..TOP_MAX written as digits are accepted", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.integer({ min: -10, max: 1000 }).map(String)), (top) => {
        const r = outcome({ top }, LEADERBOARD_QUERY);
        const valid = top === "" || (/^\d{1,9}$/.test(top) && Number(top) >= 1 && Number(top) <= TOP_MAX);
        if (valid) expect(r.ok?.top).toBe(top === "" ? 20 : Number(top));
        else {
          expect(r.err?.status).toBe(400);
          expect(r.err?.code).toBe("invalid_parameter");
          expect(r.err?.details).toEqual({ parameter: "top" });
          expect(r.err?.message).toBe(`top: must be an integer from 1 to ${TOP_MAX}`);
        }
      }),
    );
  });

  it("any query gives a valid value or a 400 naming the parameter", () => {
    const names = fc.constantFrom("window", "top", "directory", "q", "type", "limit", "offset", "other");
    fc.assert(
      fc.property(fc.dictionary(names, fc.string({ maxLength: 120 })), (query) => {
        for (const spec of [LEADERBOARD_QUERY, DISCOVERY_QUERY]) {
          const r = outcome(query, spec);
          if (r.err) {
            expect(r.err.status).toBe(400);
            expect(["invalid_parameter", "unknown_directory"]).toContain(r.err.code);
            expect(Object.keys(spec)).toContain((r.err.details as { parameter: string }).parameter);
          } else {
            const q = r.ok.q;
            if (typeof q === "string") expect(q.length).toBeLessThanOrEqual(100);
            if (typeof r.ok.directory === "string") expect(r.ok.directory).toMatch(/^[a-z0-9][a-z0-9-]{0,39}$/);
          }
        }
      }),
    );
  });

  it("a malformed directory is unknown_directory without the name prefix; a long q is invalid", () => {
    expect(outcome({ directory: "Bad Dir!" }, LEADERBOARD_QUERY).err?.message).toBe("no directory 'bad dir!'");
    expect(outcome({ q: "x".repeat(101) }, LEADERBOARD_QUERY).err?.message).toBe("q: at most 100 characters");
    expect(outcome({ q: "a\u0001" }, LEADERBOARD_QUERY).err?.message).toBe("q: control characters are not allowed");
    const window = outcome({ window: "year" }, LEADERBOARD_QUERY).err?.message;
    expect(window).toBe("window: must be one of today, week, overall");
  });
});
