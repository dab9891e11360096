// Cookie plumbing of the dashboard session. Pure. Both cookies are `__Host-` prefixed (Secure,
// Path=/, no Domain: a sibling subdomain cannot set or read them), HttpOnly and SameSite=Strict.
export const SESSION_COOKIE = "__Host-claw_session";
/** The login form's double-submit CSRF token (there is no session yet to bind it to). */
export const LOGIN_COOKIE = "__Host-claw_login";
export const SESSION_TTL_SECONDS = 3600;
export const LOGIN_TTL_SECONDS = 1800;

export function parseCookies(header: string | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name && !out.has(name)) out.set(name, value);
  }
  return out;
}

export function setCookie(name: string, value: string, maxAgeSeconds: number): string {
  return `${name}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Strict`;
}

export function clearCookie(name: string): string {
  return setCookie(name, "", 0);
}

/** 32 random bytes, base64url: session ids and CSRF tokens. */
export function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** A token we minted: 43 base64url characters. Anything else is not looked up. */
export function isToken(value: string | undefined): value is string {
  return typeof value === "string" && /^[A-Za-z0-9_-]{43}$/.test(value);
}

/**
 * A state-changing form post must come from our own pages: SameSite=Strict already keeps the
 * cookies off cross-site posts, and Origin / Sec-Fetch-Site (sent by every current browser)
 * refuse them outright. A request with neither header (curl) still needs the CSRF token.
 */
export function isSameOriginPost(request: Request): boolean {
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== new URL(request.url).origin) return false;
  const site = request.headers.get("sec-fetch-site");
  return site === null || site === "same-origin";
}
