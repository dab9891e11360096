// Pure logic of the dashboard: cookie parsing (fast-check over arbitrary headers), cookie flags,
// same-origin checks, the ledger view's exact sums, limits and how close they are.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  clearCookie,
  isSameOriginPost,
  isToken,
  parseCookies,
  randomToken,
  setCookie,
} from "../../src/web/dashboard/cookies.ts";
import { ledgerView } from "../../src/web/dashboard/ledger.ts";
import { limitRows } from "../../src/web/dashboard/limits.ts";
import type { TenantConfig } from "../../src/config/tenant-config.ts";

describe("cookies", () => {
  it("parses a Cookie header; the first of duplicate names wins", () => {
    const c = parseCookies("a=1; __Host-claw_session=abc=def ;a=2; junk; =x");
    expect([...c.entries()]).toEqual([
      ["a", "1"],
      ["__Host-claw_session", "abc=def"],
    ]);
    expect(parseCookies(null).size).toBe(0);
  });

  it("never throws and round-trips well-formed pairs (property)", () => {
    fc.assert(fc.property(fc.string(), (header) => void parseCookies(header)));
    const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/);
    const value = fc.stringMatching(/^[A-Za-z0-9_=-]{0,40}$/);
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(name, value), { selector: ([n]) => n, maxLength: 8 }), (pairs) => {
        const parsed = parseCookies(pairs.map(([n, v]) => `${n}=${v}`).join("; "));
        expect([...parsed.entries()]).toEqual(pairs);
      }),
    );
  });

  it("sets HttpOnly, Secure, SameSite=Strict, Path=/ and clears with Max-Age=0", () => {
    expect(setCookie("__Host-x", "v", 60)).toBe("__Host-x=v; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Strict");
    expect(clearCookie("__Host-x")).toContain("Max-Age=0");
  });

  it("mints 256-bit tokens and recognises only their shape", () => {
    const t = randomToken();
    expect(isToken(t)).toBe(true);
    expect(t).not.toBe(randomToken());
    for (const bad of [undefined, "", "abc", `${t}x`, t.replace(/.$/, "!")]) expect(isToken(bad)).toBe(false);
  });

  it("accepts only same-origin posts when the browser says where they come from", () => {
    const post = (headers: Record<string, string>) =>
      new Request("https://claw.example/dashboard/login", { method: "POST", headers });
    expect(isSameOriginPost(post({}))).toBe(true);
    expect(isSameOriginPost(post({ origin: "https://claw.example", "sec-fetch-site": "same-origin" }))).toBe(true);
    expect(isSameOriginPost(post({ origin: "https://evil.example" }))).toBe(false);
    expect(isSameOriginPost(post({ "sec-fetch-site": "cross-site" }))).toBe(false);
    expect(isSameOriginPost(post({ origin: "null" }))).toBe(false);
  });
});

describe("ledgerView", () => {
  const DAY = Date.UTC(2026, 11, 1);
  const row = (payer: string, amount: string, settledAt: number, tx: string | null = `0x${payer}`) => ({
    payment_id: `${payer}-${settledAt}`,
    payer,
    amount_atomic: amount,
    tx_hash: tx,
    settled_at: settledAt,
  });

  it("sums exactly with bigints (beyond 2^53), ranks payers and finds the busiest payer today", () => {
    const big = "9007199254740993"; // 2^53 + 1
    const rows = [
      row("b", "1000", DAY + 5),
      row("a", big, DAY + 4),
      row("a", "1", DAY - 1, null),
      row("c", "1000", DAY + 1),
    ];
    const v = ledgerView(rows, 6, DAY);
    expect(v.payments).toBe(4);
    expect(v.amountAtomic).toBe("9007199254742994");
    expect(v.topPayers.map((p) => [p.payer, p.payments, p.amountAtomic])).toEqual([
      ["a", 2, "9007199254740994"],
      ["b", 1, "1000"],
      ["c", 1, "1000"],
    ]);
    expect(v.maxPayerToday).toBe(big);
    expect(v.recent.map((s) => s.transaction)).toEqual(["0xb", "0xa", null, "0xc"]);
    expect(ledgerView([], 6, DAY)).toMatchObject({
      payments: 0,
      amountAtomic: "0",
      amountUsd: "$0.00",
      maxPayerToday: "0",
    });
  });
});

describe("limitRows", () => {
  const config = {
    rateLimit: { perCaller: { requests: 60, windowSeconds: 60 } },
    usageLimit: { dailyRequests: 100 },
    spendLimit: { dailyUsd: 1, perPayerDailyUsd: 0.01 },
  } as unknown as TenantConfig;
  const w = (calls: number, refused: number) => ({
    calls,
    served: calls - refused,
    errors: 0,
    refused,
    uniqueCallers: 0,
    p50LatencyMs: null,
    p95LatencyMs: null,
  });

  it("puts each configured limit next to its use now", () => {
    const rows = limitRows(
      config,
      6,
      { today: w(30, 5), month: w(30, 5) },
      {
        day: "2026-12-01",
        month: "2026-12",
        daily: { settled: "250000", reserved: "250000" },
        monthly: { settled: "0", reserved: "0" },
      },
      "20000",
    );
    expect(rows).toEqual([
      { name: "Rate limit per caller", limit: "60 per 60 s", used: "refilled continuously", ratio: null },
      { name: "Daily quota", limit: "100 calls", used: "25 calls", ratio: 0.25 },
      { name: "Spend cap, today", limit: "$1.00", used: "$0.50", ratio: 0.5 },
      { name: "Per-payer cap, today (busiest payer)", limit: "$0.01", used: "$0.02", ratio: 1 },
    ]);
    expect(limitRows({} as TenantConfig, 6, null, null, "0")).toEqual([]);
  });
});
