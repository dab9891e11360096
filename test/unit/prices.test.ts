// The price-per-operation matcher and its schema (src/config/prices.ts): parsing, normalization,
// duplicates, and "most specific pattern wins" both on examples and as properties.
import fc from "fast-check";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { anyPaid, parsePattern, priceOf, PricesSchema, type Prices } from "../../src/config/prices.ts";

const parse = (raw: unknown) => v.safeParse(PricesSchema, raw);
const prices = (raw: Record<string, number>): Prices => v.parse(PricesSchema, raw);

describe("parsePattern", () => {
  it("normalizes the method and a trailing slash", () => {
    expect(parsePattern("get /v1/records/{id}/")).toMatchObject({ method: "GET", key: "GET /v1/records/{id}" });
    expect(parsePattern("POST /")).toMatchObject({ key: "POST /", segments: [] });
  });
  it("names what is wrong", () => {
    expect(parsePattern("/v1/search")).toMatch(/METHOD \/path/);
    expect(parsePattern("FETCH /v1")).toMatch(/method must be one of/);
    expect(parsePattern("GET /v1/{id")).toMatch(/neither a literal nor a \{param\}/);
    expect(parsePattern("GET /v1//x")).toMatch(/neither/);
    expect(parsePattern("GET v1")).toMatch(/METHOD \/path/);
  });
});

describe("PricesSchema", () => {
  it("accepts free and paid operations and normalizes keys", () => {
    const r = parse({ "get /v1/schema": 0, "GET /v1/records/{id}": 0.002 });
    expect(r.success && r.output).toEqual({ "GET /v1/schema": 0, "GET /v1/records/{id}": 0.002 });
  });
  it("refuses negative prices, bad patterns and the same operation twice", () => {
    expect(parse({ "GET /a": -0.01 }).success).toBe(false);
    expect(parse({ "GET /a": Number.POSITIVE_INFINITY }).success).toBe(false);
    expect(parse({ "GET a": 1 }).success).toBe(false);
    const twin = parse({ "GET /a/{x}": 1, "get /a/{y}": 2 });
    expect(twin.success).toBe(false);
    if (!twin.success) expect(twin.issues[0].message).toMatch(/the same operation as/);
    expect(parse(Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`GET /p${i}`, 1]))).success).toBe(false);
  });
});

describe("priceOf", () => {
  const table = prices({
    "GET /v1/records": 0.001,
    "GET /v1/records/{id}": 0.002,
    "GET /v1/records/special": 0.5,
    "GET /v1/schema": 0,
    "POST /v1/{kind}/run": 0.03,
    "POST /v1/gen/{step}": 0.04,
  });
  it("prices the exact request, the default for the rest", () => {
    expect(priceOf(table, 0.01, "GET", "/v1/records")).toEqual({ usd: 0.001, pattern: "GET /v1/records" });
    expect(priceOf(table, 0.01, "GET", "/v1/records/42")).toEqual({ usd: 0.002, pattern: "GET /v1/records/{id}" });
    expect(priceOf(table, 0.01, "HEAD", "/v1/records/42/").usd).toBe(0.002);
    expect(priceOf(table, 0.01, "GET", "/v1/schema")).toEqual({ usd: 0, pattern: "GET /v1/schema" });
    expect(priceOf(table, 0.01, "POST", "/v1/records")).toEqual({ usd: 0.01, pattern: null });
    expect(priceOf(table, 0.01, "GET", "/v1/records/42/x")).toEqual({ usd: 0.01, pattern: null });
    expect(priceOf(undefined, 0.01, "GET", "/")).toEqual({ usd: 0.01, pattern: null });
  });
  it("lets a literal segment beat a {param}, first difference first", () => {
    expect(priceOf(table, 0.01, "GET", "/v1/records/special").usd).toBe(0.5);
    // /v1/gen/run matches both: `gen` (literal) comes before `run` (literal), so POST /v1/gen/{step} wins.
    expect(priceOf(table, 0.01, "POST", "/v1/gen/run").usd).toBe(0.04);
    expect(priceOf(table, 0.01, "POST", "/v1/other/run").usd).toBe(0.03);
  });
  it("prices a description's template by its param pattern, never by a literal", () => {
    expect(priceOf(table, 0.01, "GET", "/v1/records/{id}").usd).toBe(0.002);
  });
  it("knows whether anything costs money", () => {
    expect(anyPaid({ "GET /x": 0 }, 0)).toBe(false);
    expect(anyPaid({ "GET /x": 0.1 }, 0)).toBe(true);
    expect(anyPaid(undefined, 0.1)).toBe(true);
  });
});

const literal = fc.constantFrom("v1", "records", "search", "a", "b", "x-y");
const segment = fc.oneof(literal, fc.constant("{p}"));
const pattern = fc.tuple(fc.constantFrom("GET", "POST"), fc.array(segment, { maxLength: 4 }));
const keyOf = ([m, segs]: [string, string[]]) => `${m} /${segs.join("/")}`;

describe("priceOf properties", () => {
  it("the winner matches, and no other match is more specific", () => {
    fc.assert(
      fc.property(
        fc.array(pattern, { maxLength: 12 }),
        fc.constantFrom("GET", "POST"),
        fc.array(literal, { maxLength: 4 }),
        (patterns, method, parts) => {
          // Distinct shapes only: the schema refuses two keys for one operation.
          const raw = Object.fromEntries(patterns.map((p, i) => [keyOf(p), i + 1]));
          const table = prices(raw);
          const path = `/${parts.join("/")}`;
          const matches = Object.keys(table).filter((k) => {
            const [m, ...rest] = k.split(" ");
            const segs = rest.join(" ") === "/" ? [] : rest.join(" ").slice(1).split("/");
            return m === method && segs.length === parts.length && segs.every((s, i) => s === "{p}" || s === parts[i]);
          });
          const got = priceOf(table, -1, method, path);
          if (matches.length === 0) return got.pattern === null && got.usd === -1;
          expect(matches).toContain(got.pattern);
          const rank = (k: string) =>
            k
              .split(" ")[1]!
              .split("/")
              .slice(1)
              .map((s) => (s === "{p}" ? "0" : "1"))
              .join("");
          return matches.every((k) => rank(k) <= rank(got.pattern!)) && got.usd === table[got.pattern!];
        },
      ),
    );
  });
  it("never throws on arbitrary keys and prices: valid or a named problem", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 30 }), fc.double()), (raw) => {
        const r = parse(raw);
        if (!r.success) expect(r.issues[0].message.length).toBeGreaterThan(0);
        else {
          for (const [k, p] of Object.entries(r.output)) {
            expect(typeof parsePattern(k) === "object" && typeof p === "number" && p >= 0).toBe(true);
          }
        }
      }),
    );
  });
});
