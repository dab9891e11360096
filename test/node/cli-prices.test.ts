// `--price` on claw deploy / claw wrap (cli/deploy/flags.ts): the plain default next to repeatable
// "METHOD /path=USD" operation prices, refused with invalid_price the way the server would, and
// `claw show`'s price table (cli/commands/manage.ts).
import { describe, expect, it } from "vitest";
import { configFromFlags, pricesFromFlags } from "../../cli/deploy/flags.ts";
import { showText } from "../../cli/commands/manage.ts";
import { CliError } from "../../cli/core/errors.ts";

function refusal(fn: () => unknown): CliError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CliError) return err;
    throw err;
  }
  throw new Error("expected a CliError");
}

describe("--price", () => {
  it("takes a default and repeatable operation prices, in either flag form", () => {
    const raw = ["x.csv", "--price", "0.002", "--price", "get /v1/search/=0.001"];
    raw.push("--price=POST /v1/generate=0.05", "--price", "GET /v1/schema=0");
    expect(pricesFromFlags(raw)).toEqual({
      priceUsd: 0.002,
      prices: { "GET /v1/search": 0.001, "POST /v1/generate": 0.05, "GET /v1/schema": 0 },
    });
    const one = configFromFlags({}, ["x.csv", "--price", "GET /v1/records/{id}=0.01"]);
    expect(one).toEqual({ prices: { "GET /v1/records/{id}": 0.01 } });
    expect(configFromFlags({}, ["x.csv"])).toEqual({});
  });
  it("takes a usage-priced operation as METHOD /path=upto:USD", () => {
    const raw = ["x.js", "--price", "POST /v1/generate=upto:0.05", "--price", "GET /v1/search=0.001"];
    expect(pricesFromFlags(raw)).toEqual({ prices: { "POST /v1/generate": { upto: 0.05 }, "GET /v1/search": 0.001 } });
    for (const bad of ["POST /v1/generate=upto:0", "POST /v1/generate=upto:", "POST /v1/generate=upto:-1"]) {
      expect(refusal(() => pricesFromFlags(["--price", bad])).code, bad).toBe("invalid_price");
    }
  });
  it("refuses bad operations, negative prices, two defaults and one operation twice", () => {
    for (const raw of [
      ["--price", "FETCH /v1=0.1"],
      ["--price", "GET v1=0.1"],
      ["--price", "GET /v1/{id=0.1"],
      ["--price", "GET /v1=-1"],
      ["--price", "GET /v1=cheap"],
      ["--price", "0.1", "--price", "0.2"],
      ["--price", "GET /v1=0.1", "--price", "get /v1/=0.2"],
    ]) {
      expect(refusal(() => pricesFromFlags(raw)).code).toBe("invalid_price");
    }
  });
});

describe("claw show", () => {
  it("prints the default price and one line per priced operation", () => {
    const tenant = {
      slug: "cities",
      resourceType: "dataset",
      version: 3,
      plan: "free",
      directory: "geo",
      description: "",
      endpoints: { path: "http://localhost/t/cities/", hosts: [] },
      priceUsd: 0.002,
      payTo: "0x" + "b".repeat(40),
      prices: { "GET /v1/records/{id}": 0.01, "GET /v1/schema": 0, "POST /v1/ask": { upto: 0.05 } },
      network: "eip155:84532",
      price: { usd: 0.002, atomic: "2000", display: "$0.002", asset: null },
      rateLimit: {},
      usageLimit: {},
      spendLimit: {},
    };
    const text = showText({ tenant } as never);
    expect(text).toContain("  price      $0.002 per call → 0x");
    expect(text).toContain("             GET /v1/records/{id}  $0.01 per call\n");
    expect(text).toContain("             GET /v1/schema        free\n");
    expect(text).toContain("             POST /v1/ask          up to $0.05 per call, usage-priced\n");
  });
});
