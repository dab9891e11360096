// The CLI's pure pieces, without a stack: unknown-flag detection and its suggestion, names for
// wrapped upstreams, plurals, colour rules, printed command prefix, upload progress, where
// credentials come from, and the ready banner's width.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { ArgsDef } from "citty";
import { editDistance, suggestFlag, unknownFlags } from "../../cli/core/command-tree.ts";
import { slugForUpstream } from "../../cli/commands/wrap.ts";
import { checkSlug, deployArgs } from "../../cli/deploy/flags.ts";
import { clawCommand, colorFor, plural } from "../../cli/core/ui.ts";
import { uploadProgress } from "../../cli/api/upload.ts";
import { keyOrigin } from "../../cli/commands/account.ts";
import { banner } from "../../cli/commands/dev.ts";
import { slugProblem } from "../../src/config/slug.ts";

const args: ArgsDef = { ...deployArgs, path: { type: "positional" }, json: { type: "boolean" } };

describe("unknown flags", () => {
  it("finds flags the command does not declare, skipping declared values and everything after --", () => {
    expect(unknownFlags(args, ["x.csv", "--prise", "0.5"])).toEqual(["--prise"]);
    expect(unknownFlags(args, ["x.csv", "--price", "0.5", "--name", "--weird-value", "--json"])).toEqual([]);
    expect(unknownFlags(args, ["x.csv", "--price=0.5", "--tenant", "t1", "--no-json"])).toEqual([]);
    expect(unknownFlags(args, ["--pay-to=0x1", "-z", "--", "--anything"])).toEqual(["-z"]);
    expect(unknownFlags(args, ["x.csv", "--price", "-0.5"])).toEqual([]);
  });
  it("suggests the closest declared flag, dashes ignored", () => {
    const known = Object.keys(deployArgs);
    expect(suggestFlag("prise", known)).toBe("price");
    expect(suggestFlag("payto", known)).toBe("pay-to");
    expect(suggestFlag("maxprice", ["max-price", "key", "json"])).toBe("max-price");
    expect(suggestFlag("nmae", known)).toBe("name");
    expect(suggestFlag("frobnicate", known)).toBeNull();
  });
  it("edit distance is a metric on short strings", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        const d = editDistance(a, b);
        expect(d).toBe(editDistance(b, a));
        expect(d === 0).toBe(a === b);
        expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
    );
  });
  it("never reports a declared flag, whatever its value", () => {
    const names = Object.keys(deployArgs);
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.string({ maxLength: 20 }), (name, value) => {
        const flag = deployArgs[name as keyof typeof deployArgs];
        const argv = flag.type === "string" ? [`--${name}`, value] : [`--${name}`];
        expect(unknownFlags(args, argv)).toEqual([]);
      }),
    );
  });
});

describe("names", () => {
  it("derives a readable, valid name for every kind of upstream host", () => {
    const name = (u: string) => slugForUpstream(new URL(u));
    expect(name("http://127.0.0.1:4123/a")).toBe("local-4123");
    expect(name("http://localhost:8080/")).toBe("local-8080");
    expect(name("http://[::1]:9000/")).toBe("local-9000");
    expect(name("https://api.example.com/v3")).toBe("example");
    expect(name("https://www.weather.co/")).toBe("weather");
    expect(name("http://10.1.2.3:81/x")).toBe("ip-10-1-2-3-81");
    for (const u of ["http://127.0.0.1:4123/a", "http://10.1.2.3/", "https://api.example.com"])
      expect(slugProblem(name(u))).toBeNull();
  });
  it("uses the server's slug rule, reserved words included", () => {
    expect(checkSlug("world-cities")).toBe("world-cities");
    expect(() => checkSlug("admin")).toThrow(/reserved/);
    expect(() => checkSlug("a--b")).toThrow(/invalid name/);
  });
});

describe("human output", () => {
  it("says 1 call, 2 calls, 0 calls", () => {
    expect([plural(1, "call"), plural(2, "call"), plural(0, "call"), plural(1, "payment")]).toEqual([
      "1 call",
      "2 calls",
      "0 calls",
      "1 payment",
    ]);
  });
  it("colours only a terminal, never with NO_COLOR or TERM=dumb", () => {
    expect(colorFor({ isTTY: true }, {})).toBe(true);
    expect(colorFor({ isTTY: false }, {})).toBe(false);
    expect(colorFor({}, {})).toBe(false);
    expect(colorFor({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(colorFor({ isTTY: true }, { TERM: "dumb" })).toBe(false);
  });
  it("prints commands the way this process was started", () => {
    expect(clawCommand({ npm_lifecycle_event: "claw" })).toBe("npm run claw --");
    expect(clawCommand({})).toBe("claw");
  });
  it("reports upload progress by quarters off a terminal, nothing for small bodies", () => {
    const lines: string[] = [];
    const report = uploadProgress((t) => lines.push(t), false);
    const total = 10 * 1024 * 1024;
    for (let sent = 256 * 1024; sent <= total; sent += 256 * 1024) report(sent, total);
    expect(lines).toEqual([
      "  uploaded 2.5 / 10.0 MiB (25%)\n",
      "  uploaded 5.0 / 10.0 MiB (50%)\n",
      "  uploaded 7.5 / 10.0 MiB (75%)\n",
      "  uploaded 10.0 / 10.0 MiB (100%)\n",
    ]);
    const small: string[] = [];
    uploadProgress((t) => small.push(t), true)(1000, 1000);
    expect(small).toEqual([]);
  });
  it("names where the key in use comes from", () => {
    const files = { config: "/home/u/.config/claw/config.json", dev: "/repo/.claw/dev.json" };
    const c = (apiKey: "env" | "local" | "config" | "none") => ({
      apiUrl: "http://x",
      apiKey: "k",
      source: { apiUrl: "default" as const, apiKey },
    });
    expect(keyOrigin(c("env"), files)).toBe("$CLAW_API_KEY");
    expect(keyOrigin(c("local"), files)).toMatch(/local stack .*\/repo\/\.claw\/dev\.json.*saved login is untouched/);
    expect(keyOrigin(c("config"), files)).toBe(files.config);
  });
  it("fits the ready banner in 100 columns", () => {
    const url = "http://127.0.0.1:65535";
    const text = banner({
      apiUrl: url,
      creatorKey: `claw_sk_${"a".repeat(48)}`,
      operatorToken: `op_${"f".repeat(48)}`,
      facilitatorUrl: "http://127.0.0.1:65534",
      rpcUrl: "http://127.0.0.1:65533",
      network: "eip155:84532",
      asset: { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", name: "USDC", version: "2", decimals: 6 },
      payer: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      payTo: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
      demos: [
        { slug: "world-cities", url: `${url}/t/world-cities/`, version: 1, rows: 50, priceUsd: 0 },
        { slug: "world-cities-pro", url: `${url}/t/world-cities-pro/`, version: 1, rows: 50, priceUsd: 0.001 },
      ],
    });
    for (const line of text.split("\n")) expect(line.length, line).toBeLessThanOrEqual(100);
  });
});
