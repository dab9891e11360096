// The web pages in real Chromium against `wrangler dev` of the real dispatcher, over a market
// made of real paid calls (support/market.ts): explore tabs, search and filter; an API page's
// numbers against GET /v1/apis/:slug; the dashboard's sign-in, exact earnings against
// GET /v1/tenants/:slug/earnings, a wrong key, logout and CSRF; XSS payloads rendered inert;
// axe-core; screenshots at 1280 and 375 px (test-results/web/); page weight and CSP.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { startMarket, XSS, type Market } from "./support/market.ts";
import { launchChromium, screenshot, seriousAxeViolations, watchedPage, type Watched } from "./support/browser.ts";

let market: Market;
let browser: Browser;

beforeAll(async () => {
  market = await startMarket();
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await market?.stop();
});

const json = async (path: string, init?: RequestInit): Promise<any> =>
  (await fetch(`${market.url}${path}`, init)).json();
const text = async (page: Page, selector: string) => ((await page.textContent(selector)) ?? "").trim();
const rowSlugs = (page: Page, list: string) =>
  page.$$eval(`${list} [data-slug]`, (rows) => rows.map((r) => r.getAttribute("data-slug")));
const int = (s: string) => Number(s.replaceAll(",", ""));

/** PNG width from its IHDR chunk: a full-page screenshot wider than the viewport means overflow. */
function pngWidth(path: string): number {
  return readFileSync(path).readUInt32BE(16);
}

async function withPage<T>(width: number, scheme: "light" | "dark", run: (w: Watched) => Promise<T>): Promise<T> {
  const w = await watchedPage(browser, { width, scheme });
  try {
    return await run(w);
  } finally {
    await w.context.close();
  }
}

async function signIn(page: Page, key: string) {
  await page.goto(`${market.url}/dashboard`);
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.fill("#key", key).then(() => page.click("form[action='/dashboard/login'] button")),
  ]);
  return response;
}

describe("web pages in Chromium", () => {
  it("explore: the tabs show each window's snapshot, search and the directory filter narrow the list", async () => {
    await withPage(1280, "light", async ({ page, problems }) => {
      await page.goto(`${market.url}/`);
      expect(await text(page, "h1")).toBe("Explore APIs");
      const stats = await json("/v1/stats");
      for (const [window, label] of [
        ["today", "Today"],
        ["overall", "Overall"],
        ["week", "This week"],
      ] as const) {
        await Promise.all([page.waitForNavigation(), page.click(`nav.tabs a:text-is("${label}")`)]);
        expect(new URL(page.url()).searchParams.get("window")).toBe(window);
        expect(await page.getAttribute(`nav.tabs a[aria-current=page]`, "href")).toBe(`/explore?window=${window}`);
        expect(await text(page, "#ranked-h")).toContain(label === "This week" ? "this week" : label.toLowerCase());
        const board = await json(`/v1/leaderboard?window=${window}`);
        expect(board.items.length).toBeGreaterThanOrEqual(2);
        expect(await rowSlugs(page, "#ranked")).toEqual(board.items.map((i: any) => i.slug));
        expect(await rowSlugs(page, "#emerging")).toEqual(board.emerging.map((i: any) => i.slug));
        for (const item of board.items) {
          expect(await text(page, `#ranked [data-slug="${item.slug}"] [data-field=calls]`)).toBe(
            String(item.metrics.calls),
          );
          expect(await text(page, `#ranked [data-slug="${item.slug}"] [data-field=revenue]`)).toBe(
            item.metrics.revenueUsd,
          );
        }
        expect(int(await text(page, "#stat-calls"))).toBe(stats.windows[window].calls);
        expect(await text(page, "#stat-revenue")).toBe(stats.windows[window].revenueUsd);
        expect(int(await text(page, "#stat-payers"))).toBe(stats.windows[window].activePayers);
      }
      // Search: a plain GET form.
      await page.fill("input[name=q]", "exchange rates");
      await Promise.all([page.waitForNavigation(), page.click("form.search button")]);
      expect(new URL(page.url()).searchParams.get("q")).toBe("exchange rates");
      expect(await rowSlugs(page, "#ranked")).toEqual(["fx-rates"]);
      expect(await rowSlugs(page, "#emerging")).toEqual([]);
      // Directory filter (and the search cleared).
      await page.fill("input[name=q]", "");
      await page.selectOption("select[name=directory]", "weather");
      await Promise.all([page.waitForNavigation(), page.click("form.search button")]);
      expect(await page.$("#ranked")).toBeNull();
      expect(await rowSlugs(page, "#emerging")).toEqual(["weather-now"]);
      await page.selectOption("select[name=directory]", "geo");
      await Promise.all([page.waitForNavigation(), page.click("form.search button")]);
      expect(await rowSlugs(page, "#ranked")).toEqual(["world-cities"]);
      // Every row links to its API page.
      await Promise.all([page.waitForNavigation(), page.click(`#ranked [data-slug="world-cities"] a`)]);
      expect(new URL(page.url()).pathname).toBe("/apis/world-cities");
      expect(await text(page, "#api-slug")).toBe("world-cities");
      expect(problems).toEqual([]);
    });
  });

  it("an API page shows the numbers of GET /v1/apis/:slug, self-dealt calls excluded", async () => {
    const { api } = await json("/v1/apis/world-cities");
    await withPage(1280, "light", async ({ page, problems }) => {
      for (const window of ["week", "overall"] as const) {
        await page.goto(`${market.url}/apis/world-cities?window=${window}`);
        const d = api.windows[window];
        expect(d.metrics.calls).toBe(market.paidCalls["world-cities"]! - 3); // three self-dealt
        expect(d.metrics.selfDealtCalls).toBe(3);
        expect(await text(page, "#m-rank")).toBe(`#${d.rank}`);
        expect(Number(await text(page, "#m-score"))).toBeCloseTo(d.score, 3);
        expect(int(await text(page, "#m-calls"))).toBe(d.metrics.calls);
        expect(await text(page, "#m-revenue")).toBe(d.metrics.revenueUsd);
        expect(int(await text(page, "#m-payers"))).toBe(d.metrics.payers);
        expect(Number((await text(page, "#m-success")).replace("%", "")) / 100).toBeCloseTo(d.metrics.successRate, 3);
        const p95 = await text(page, "#m-p95");
        expect(p95.endsWith(" s") ? Number(p95.slice(0, -2)) * 1000 : Number(p95.replace(" ms", ""))).toBeCloseTo(
          d.metrics.p95Ms,
          -1,
        );
        expect(await text(page, "#api-price")).toContain(api.price.usd);
        expect(await text(page, "#api-price")).toContain(`${api.price.atomic} atomic units`);
        expect(await text(page, "#api-payto")).toBe(api.payTo);
        expect(await text(page, "#self-dealt")).toContain(`${d.metrics.selfDealtCalls} self-dealt calls`);
        expect(Number(await text(page, "#factor-d .value"))).toBeCloseTo(d.breakdown.D, 3);
        expect(Number(await text(page, "#factor-q .value"))).toBeCloseTo(d.breakdown.Q, 3);
        expect(Number(await text(page, "#factor-c .value"))).toBeCloseTo(d.breakdown.C, 3);
        expect(Number(await text(page, "#factor-b .value"))).toBeCloseTo(d.breakdown.B, 3);
        // The chart's hourly table adds up to the same organic and self-dealt calls.
        const cells = await page.$$eval("#calls-h ~ figure details tbody tr", (rows) =>
          rows.map((r) => [...r.querySelectorAll("td")].map((c) => c.textContent)),
        );
        expect(cells.reduce((s, c) => s + Number(c[1]), 0)).toBe(d.metrics.calls);
        expect(cells.reduce((s, c) => s + Number(c[2]), 0)).toBe(3);
      }
      expect(await text(page, "#snippet-claw")).toContain(
        `claw call '${market.url}/t/world-cities/v1/records?limit=3'`,
      );
      expect(await text(page, "#snippet-fetch")).toContain("wrapFetchWithPayment");
      expect(problems).toEqual([]);
    });
  });

  it("the dashboard refuses a wrong key, signs in with a key and shows the ledger's exact earnings", async () => {
    const earnings = await json("/v1/tenants/world-cities/earnings", {
      headers: { authorization: `Bearer ${market.a.key}` },
    });
    expect(earnings.totals.payments).toBe(market.paidCalls["world-cities"]);
    await withPage(1280, "light", async ({ page, context, problems }) => {
      const wrong = await signIn(page, `claw_sk_${"x".repeat(43)}`);
      expect(wrong?.status()).toBe(401);
      expect(await text(page, "#login-error")).toContain("not accepted");
      expect((await context.cookies()).some((c) => c.name === "__Host-claw_session")).toBe(false);

      const ok = await signIn(page, market.a.key);
      expect(ok?.status()).toBe(200);
      expect(new URL(page.url()).pathname).toBe("/dashboard");
      const session = (await context.cookies()).find((c) => c.name === "__Host-claw_session");
      expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/" });
      expect(page.url()).not.toContain(market.a.key);
      expect(await page.content()).not.toContain(market.a.key);

      expect(await rowSlugs(page, "#my-apis")).toEqual(["world-cities", "xss-probe"]);
      expect(await text(page, "#d-revenue-atomic")).toBe(earnings.totals.amountAtomic);
      expect(await text(page, "#d-revenue")).toBe(earnings.totals.amountUsd);
      expect(int(await text(page, "#d-payments"))).toBe(earnings.totals.payments);
      expect(await text(page, `#my-apis [data-slug="world-cities"] [data-field=revenue]`)).toBe(
        earnings.totals.amountUsd,
      );
      const txs = await page.$$eval("#settlements [data-tx]", (els) => els.map((e) => e.getAttribute("data-tx")));
      expect(txs).toEqual(earnings.items.slice(0, 10).map((i: any) => i.transaction));
      expect(await text(page, "#payers")).toContain("self-dealt");
      expect(await text(page, "#d-self")).toMatch(/^3 /);
      // Spend caps next to what is spent today (every payment of this run settled today).
      const limits = await page.$$eval("#limits tbody tr", (rows) =>
        rows.map((r) => [...r.querySelectorAll("td")].map((c) => c.textContent)),
      );
      expect(limits.find((r) => r[0] === "Spend cap, today")?.[2]).toBe(earnings.totals.amountUsd);
      expect(limits.find((r) => r[0] === "Daily quota")?.[1]).toBe("10000 calls");
      await screenshot(page, "dashboard-1280");

      // Logout ends the session on the server: the old cookie no longer opens the dashboard.
      await Promise.all([page.waitForNavigation(), page.click("form[action='/dashboard/logout'] button")]);
      expect(await page.$("#key")).not.toBeNull();
      const replay = await fetch(`${market.url}/dashboard`, {
        headers: { cookie: `__Host-claw_session=${session!.value}` },
      });
      expect(await replay.text()).toContain('name="key"');
      expect(problems).toEqual([]);
    });
  });

  it("sign-in is CSRF-safe: a post without the form's token or from another origin is refused", async () => {
    const body = new URLSearchParams({ key: market.a.key, csrf: "a".repeat(43) });
    const noCookie = await fetch(`${market.url}/dashboard/login`, { method: "POST", body, redirect: "manual" });
    expect(noCookie.status).toBe(403);
    expect(noCookie.headers.getSetCookie().some((c) => c.startsWith("__Host-claw_session="))).toBe(false);
    const crossSite = await fetch(`${market.url}/dashboard/login`, {
      method: "POST",
      body,
      redirect: "manual",
      headers: { origin: "https://evil.example", cookie: `__Host-claw_login=${"a".repeat(43)}` },
    });
    expect(crossSite.status).toBe(403);
    const matching = await fetch(`${market.url}/dashboard/login`, {
      method: "POST",
      body,
      redirect: "manual",
      headers: { cookie: `__Host-claw_login=${"a".repeat(43)}` },
    });
    expect(matching.status).toBe(303);
    expect(matching.headers.getSetCookie().find((c) => c.startsWith("__Host-claw_session="))).toMatch(
      /HttpOnly; Secure; SameSite=Strict/,
    );
  });

  it("renders creator text, slugs and directories carrying <script>/onerror payloads as inert text", async () => {
    await withPage(1280, "light", async ({ page, problems }) => {
      const check = async () => {
        expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
        expect(await page.$$('img[src="x"]')).toHaveLength(0);
        expect(await page.$$eval("script", (s) => s.map((e) => e.getAttribute("src")))).toEqual([
          expect.stringMatching(/^\/assets\/app\.js\?v=/),
        ]);
      };
      await page.goto(`${market.url}/apis/xss-probe`);
      expect(await page.textContent("#api-description")).toBe(XSS);
      await check();
      await page.goto(`${market.url}/explore?q=${encodeURIComponent("<script>")}`);
      expect(await page.inputValue("input[name=q]")).toBe("<script>");
      expect(await rowSlugs(page, "#emerging")).toEqual(["xss-probe"]);
      expect(await text(page, "#emerging .desc")).toBe(XSS);
      await check();
      const directory = `"><img src=x onerror="window.__xss=3">`;
      const res = await page.goto(`${market.url}/explore?directory=${encodeURIComponent(directory)}`);
      expect(res?.status()).toBe(400);
      expect(await text(page, "#error-message")).toContain(directory);
      await check();
      const slug = `<script>window.__xss=4</script>"onerror=alert(1)`;
      const bad = await page.goto(`${market.url}/apis/${encodeURIComponent(slug)}`);
      expect(bad?.status()).toBe(400);
      await check();
      expect(problems).toEqual([]);
    });
  });

  it("screenshots at 1280 and 375 px without horizontal overflow, and no serious axe-core violation", async () => {
    const pages = [
      ["explore", "/explore"],
      ["api", "/apis/world-cities"],
      ["login", "/dashboard"],
    ] as const;
    for (const [width, scheme] of [
      [1280, "light"],
      [375, "dark"],
    ] as const) {
      await withPage(width, scheme, async ({ page, problems }) => {
        for (const [name, path] of pages) {
          await page.goto(`${market.url}${path}`);
          expect(pngWidth(await screenshot(page, `${name}-${width}`))).toBe(width);
          expect(await seriousAxeViolations(page), `${name} at ${width} (${scheme})`).toEqual([]);
        }
        await signIn(page, market.b.key);
        expect(await rowSlugs(page, "#my-apis")).toEqual(["fx-rates", "weather-now"]);
        expect(pngWidth(await screenshot(page, `dashboard-b-${width}`))).toBe(width);
        expect(await seriousAxeViolations(page), `dashboard at ${width} (${scheme})`).toEqual([]);
        expect(problems).toEqual([]);
      });
    }
  });

  it("/explore is self-contained, under a strict CSP and at most 100 KB with its assets", async () => {
    const res = await fetch(`${market.url}/explore`);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    const html = await res.text();
    const assets = [...html.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!.replaceAll("&amp;", "&"));
    expect(assets.length).toBe(3);
    let bytes = new TextEncoder().encode(html).length;
    for (const a of assets) bytes += (await (await fetch(`${market.url}${a}`)).arrayBuffer()).byteLength;
    expect(bytes).toBeLessThanOrEqual(100 * 1024);
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
    expect(html).not.toMatch(/<script>|<style|style="/);
  });
});
