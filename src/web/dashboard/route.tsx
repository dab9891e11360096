/** @jsxImportSource hono/jsx */
// GET /dashboard, POST /dashboard/login, POST /dashboard/logout. Sign-in checks the key exactly as
// the control plane does (requireCreator, scope tenants:read) and answers with a redirect, so a
// reload never re-posts the key. Every POST needs a same-origin request and its CSRF token.
import * as v from "valibot";
import type { IRequest } from "itty-router";
import { ApiError } from "../../http/errors.ts";
import type { PlatformContext } from "../../control/context.ts";
import { requireCreator } from "../../control/auth.ts";
import { slugProblem } from "../../config/slug.ts";
import { windowParam } from "../../public/http.ts";
import { page } from "../html.ts";
import {
  clearCookie,
  isSameOriginPost,
  LOGIN_COOKIE,
  LOGIN_TTL_SECONDS,
  parseCookies,
  randomToken,
  SESSION_COOKIE,
  SESSION_TTL_SECONDS,
  setCookie,
} from "./cookies.ts";
import { createSession, csrfMatches, deleteSession, readSession } from "./session.ts";
import { readDashboard } from "./data.ts";
import { LoginPage } from "./login.tsx";
import { DashboardPage } from "./page.tsx";

const MAX_FORM_BYTES = 4096;
const LoginForm = v.object({
  csrf: v.string(),
  key: v.pipe(
    v.string(),
    v.trim(),
    v.minLength(1, "enter your API key"),
    v.maxLength(200),
    v.regex(/^claw_sk_[A-Za-z0-9_-]+$/, "that is not a 402claw API key (claw_sk_…)"),
  ),
});
const LogoutForm = v.object({ csrf: v.string() });

async function loginPage(status: number, error?: string): Promise<Response> {
  const csrf = randomToken();
  return page(<LoginPage csrf={csrf} {...(error ? { error } : {})} />, {
    status,
    headers: { "set-cookie": setCookie(LOGIN_COOKIE, csrf, LOGIN_TTL_SECONDS) },
  });
}

async function readForm(request: Request): Promise<Record<string, unknown>> {
  if (Number(request.headers.get("content-length") ?? "0") > MAX_FORM_BYTES)
    throw new ApiError(413, "payload_too_large", `a form is at most ${MAX_FORM_BYTES} bytes`);
  const type = request.headers.get("content-type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded"))
    throw new ApiError(415, "unsupported_media_type", "send the form as application/x-www-form-urlencoded");
  const bytes = await request.arrayBuffer();
  if (bytes.byteLength > MAX_FORM_BYTES)
    throw new ApiError(413, "payload_too_large", `a form is at most ${MAX_FORM_BYTES} bytes`);
  return Object.fromEntries(new URLSearchParams(new TextDecoder().decode(bytes)));
}

function redirect(location: string, cookies: string[]): Response {
  const headers = new Headers({ location, "cache-control": "no-store" });
  for (const c of cookies) headers.append("set-cookie", c);
  return new Response(null, { status: 303, headers });
}

export async function dashboardPage(request: IRequest, pc: PlatformContext): Promise<Response> {
  const session = await readSession(request, pc.env.DB, pc.now);
  if (!session) return loginPage(200);
  const params = new URL(request.url).searchParams;
  const api = params.get("api");
  const window = windowParam(params);
  const data = await readDashboard(
    pc.env,
    session.creatorId,
    api !== null && slugProblem(api) === null ? api : null,
    window,
    pc.now,
  );
  return page(<DashboardPage data={data} window={window} csrf={session.csrf} expiresAt={session.expiresAt} />, {
    headers: { "cache-control": "no-store, private" },
  });
}

export async function login(request: IRequest, pc: PlatformContext): Promise<Response> {
  if (!isSameOriginPost(request))
    throw new ApiError(403, "cross_site_request", "sign in from the 402claw dashboard page");
  const raw = await readForm(request);
  const expected = parseCookies(request.headers.get("cookie")).get(LOGIN_COOKIE);
  if (!expected || !(await csrfMatches(expected, raw.csrf)))
    return loginPage(403, "Your sign-in form expired. Please try again.");
  const form = v.safeParse(LoginForm, raw);
  if (!form.success) return loginPage(400, form.issues[0].message);
  const probe = new Request(request.url, { headers: { authorization: `Bearer ${form.output.key}` } });
  let principal;
  try {
    principal = await requireCreator(probe, pc.env, pc.ctx, "tenants:read");
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return loginPage(
      err.status,
      err.code === "insufficient_scope"
        ? "This key lacks the tenants:read scope."
        : "That API key was not accepted (unknown or revoked).",
    );
  }
  const { id } = await createSession(pc.env.DB, principal, pc.now);
  return redirect("/dashboard", [setCookie(SESSION_COOKIE, id, SESSION_TTL_SECONDS), clearCookie(LOGIN_COOKIE)]);
}

export async function logout(request: IRequest, pc: PlatformContext): Promise<Response> {
  if (!isSameOriginPost(request))
    throw new ApiError(403, "cross_site_request", "sign out from the 402claw dashboard page");
  const session = await readSession(request, pc.env.DB, pc.now);
  const form = v.safeParse(LogoutForm, await readForm(request));
  if (session && form.success && (await csrfMatches(session.csrf, form.output.csrf)))
    await deleteSession(pc.env.DB, session);
  else if (session) throw new ApiError(403, "csrf_mismatch", "the sign-out form is stale; reload the dashboard");
  return redirect("/dashboard", [clearCookie(SESSION_COOKIE)]);
}
