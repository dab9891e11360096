// The HTML pages inside workerd, through the real dispatcher: window tabs over events of
// different days, escaping of creator text, HTML error pages, and the dashboard session's life
// (login cookie + CSRF, wrong key, session cookie, logout, key revocation). Chromium tests of the
// same pages are in test/node/web/.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { leaderboardFor } from "../../objects/leaderboard/shards.ts";
import { auth, call, CITIES_CSV, createCreator, deployOk, OPERATOR, uniqueSlug } from "./helpers.ts";
import { usageEvent } from "../support/usage-events.ts";

const DAY = 86_400_000;
const XSS = `<script>alert(1)</script><img src=x onerror="alert(2)">"onerror=alert(3)`;
let creator: { id: string; key: string; keyId: string };
let slug: string;
let directory: string;

const payer = (i: number) => `0x${String(i).padStart(40, "0")}`;
const cookieOf = (res: Response, name: string) => res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
const cookieValue = (setCookie: string | undefined) =>
  (setCookie ?? "").split(";")[0]?.split("=").slice(1).join("=") ?? "";
const csrfIn = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
const cardCalls = (html: string) =>
  Number(
    new RegExp(`data-directory="${directory}">[\\s\\S]*?<dt>Calls</dt><dd>([\\d,]+)</dd>`)
      .exec(html)?.[1]
      ?.replaceAll(",", ""),
  );

beforeAll(async () => {
  creator = await createCreator("Web Pages");
  slug = uniqueSlug("web");
  directory = uniqueSlug("dir");
  await deployOk(creator.key, slug, CITIES_CSV, {
    config: { priceUsd: 0.001, payTo: payer(99), directory, description: XSS },
  });
  const now = Date.now();
  const ev = (i: number, ts: number) => usageEvent({ apiId: slug, owner: creator.id, directory, caller: payer(i), ts });
  await leaderboardFor(env, slug).ingest([
    ev(1, now - 60_000),
    ev(1, now - 30_000),
    ev(2, now - 3 * DAY),
    ev(3, now - 3 * DAY),
    ev(3, now - 3 * DAY - 1000),
  ]);
  expect((await call("/__platform/rollup", { method: "POST", headers: OPERATOR })).status).toBe(200);
});

describe("explore and API pages", () => {
  it("/ and /explore are HTML under a strict CSP; the tabs show each window's numbers", async () => {
    const res = await call(`/?window=today`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toMatch(
      /^default-src 'none'; script-src 'self'; style-src 'self'/,
    );
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(cardCalls(await res.text())).toBe(2);
    expect(cardCalls(await (await call("/explore?window=week")).text())).toBe(5);
    expect(cardCalls(await (await call("/explore?window=overall")).text())).toBe(5);
    const filtered = await (await call(`/explore?directory=${directory}&q=${slug}`)).text();
    expect(filtered).toContain(`data-slug="${slug}"`);
    expect(await (await call(`/explore?q=${slug}-nothing`)).text()).not.toContain(`data-slug="${slug}"`);
  });

  it("escapes creator text and reflected query text", async () => {
    for (const path of [`/apis/${slug}`, `/explore?directory=${directory}&q=${encodeURIComponent("<script>")}`]) {
      const html = await (await call(path)).text();
      expect(html).not.toContain("<script>alert");
      expect(html).not.toContain("<img src=x");
      expect(html).not.toContain('"onerror=');
      expect([...html.matchAll(/<script\b/g)]).toHaveLength(1); // our own /assets/app.js only
    }
    const page = await (await call(`/apis/${slug}`)).text();
    expect(page).toContain(
      "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;&quot;onerror=alert(3)",
    );
    const search = await (await call(`/explore?q=${encodeURIComponent('"><svg onload=alert(1)>')}`)).text();
    expect(search).toContain('value="&quot;&gt;&lt;svg onload=alert(1)&gt;"');
  });

  it("answers bad input with HTML error pages carrying the JSON API's status and code", async () => {
    const missing = await call("/apis/no-such-api-here");
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("<code>api_not_found</code>");
    const badWindow = await call("/explore?window=month");
    expect(badWindow.status).toBe(400);
    expect(await badWindow.text()).toContain("<code>invalid_parameter</code>");
    const badDirectory = await call(`/explore?directory=${encodeURIComponent('"><b>x')}`);
    expect(badDirectory.status).toBe(400);
    expect(await badDirectory.text()).toContain("&quot;&gt;&lt;b&gt;x");
    const unknown = await call("/explore?directory=no-such-directory-here");
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain("<code>unknown_directory</code>");
    const asset = await call("/assets/style.css");
    expect(asset.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect((await call("/assets/nope.js")).status).toBe(404);
  });
});

describe("dashboard session", () => {
  async function loginForm(): Promise<{ cookie: string; csrf: string }> {
    const res = await call("/dashboard");
    expect(res.status).toBe(200);
    const set = cookieOf(res, "__Host-claw_login");
    expect(set).toMatch(/; Path=\/; Max-Age=\d+; HttpOnly; Secure; SameSite=Strict$/);
    return { cookie: `__Host-claw_login=${cookieValue(set)}`, csrf: csrfIn(await res.text()) };
  }
  const post = (path: string, cookie: string, form: Record<string, string>) =>
    call(path, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded", origin: "http://localhost" },
      body: new URLSearchParams(form).toString(),
    });

  it("refuses a wrong key and a missing CSRF token, signs in with the key and never echoes it", async () => {
    const form = await loginForm();
    const wrong = await post("/dashboard/login", form.cookie, { csrf: form.csrf, key: "claw_sk_not-a-real-key" });
    expect(wrong.status).toBe(401);
    expect(cookieOf(wrong, "__Host-claw_session")).toBeUndefined();
    expect(await wrong.text()).not.toContain("claw_sk_not-a-real-key");
    expect((await post("/dashboard/login", form.cookie, { csrf: "x".repeat(43), key: creator.key })).status).toBe(403);
    expect((await post("/dashboard/login", "", { csrf: form.csrf, key: creator.key })).status).toBe(403);
    const ok = await post("/dashboard/login", form.cookie, { csrf: form.csrf, key: creator.key });
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("/dashboard");
    const session = cookieOf(ok, "__Host-claw_session");
    expect(session).toMatch(
      /^__Host-claw_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=3600; HttpOnly; Secure; SameSite=Strict$/,
    );
    const page = await call("/dashboard", { headers: { cookie: `__Host-claw_session=${cookieValue(session)}` } });
    expect(page.headers.get("cache-control")).toBe("no-store, private");
    const html = await page.text();
    expect(html).toContain(`data-slug="${slug}"`);
    expect(html).not.toContain(creator.key);
    const earnings = (await (await call(`/v1/tenants/${slug}/earnings`, { headers: auth(creator.key) })).json()) as any;
    expect(html).toContain(`<dd id="d-revenue-atomic">${earnings.totals.amountAtomic}</dd>`);
  });

  it("logout needs the session's CSRF token and ends the session; revoking the key ends the others", async () => {
    const signIn = async () => {
      const form = await loginForm();
      const res = await post("/dashboard/login", form.cookie, { csrf: form.csrf, key: creator.key });
      return `__Host-claw_session=${cookieValue(cookieOf(res, "__Host-claw_session"))}`;
    };
    const first = await signIn();
    const csrf = csrfIn(await (await call("/dashboard", { headers: { cookie: first } })).text());
    expect((await post("/dashboard/logout", first, { csrf: "y".repeat(43) })).status).toBe(403);
    const out = await post("/dashboard/logout", first, { csrf });
    expect(out.status).toBe(303);
    expect(cookieOf(out, "__Host-claw_session")).toContain("Max-Age=0");
    expect(await (await call("/dashboard", { headers: { cookie: first } })).text()).toContain('name="key"');

    const second = await signIn();
    expect(await (await call("/dashboard", { headers: { cookie: second } })).text()).toContain("Sign out");
    const other = await createCreator("Web Pages revoked");
    const form = await loginForm();
    const otherLogin = await post("/dashboard/login", form.cookie, { csrf: form.csrf, key: other.key });
    const otherCookie = `__Host-claw_session=${cookieValue(cookieOf(otherLogin, "__Host-claw_session"))}`;
    expect((await call(`/v1/keys/${other.keyId}`, { method: "DELETE", headers: auth(other.key) })).status).toBe(200);
    expect(await (await call("/dashboard", { headers: { cookie: otherCookie } })).text()).toContain('name="key"');
    expect(await (await call("/dashboard", { headers: { cookie: second } })).text()).toContain("Sign out");
  });
});
