// The dashboard's one-cell price summary (src/web/price-summary.ts): a single price, free, and
// per-operation prices with free and usage-priced operations.
import { describe, expect, it } from "vitest";
import { priceSummary } from "../../src/web/price-summary.ts";

describe("price summary", () => {
  it("one price, or free", () => {
    expect(priceSummary(0.005)).toBe("$0.005");
    expect(priceSummary(0)).toBe("free");
    expect(priceSummary(0, { "GET /v1/schema": 0 })).toBe("free");
    expect(priceSummary(0.002, { "GET /v1/a": 0.002 })).toBe("$0.002");
  });

  it("per-operation prices: the range, and which kinds of operation there are", () => {
    expect(priceSummary(0.005, { "GET /v1/search": 0.001, "POST /v1/generate": 0.05 })).toBe(
      "$0.001–$0.05 per operation",
    );
    expect(priceSummary(0.001, { "GET /v1/schema": 0 })).toBe("$0.001 per operation (some free)");
    expect(priceSummary(0, { "POST /v1/generate": { upto: 0.05 }, "GET /v1/a": 0.001 })).toBe(
      "$0.001–$0.05 per operation (some usage-priced, some free)",
    );
  });
});
