// HTML responses of the web pages (docs/ARCHITECTURE.md §13): a rendered hono/jsx tree (which
// escapes every interpolated value) with the security headers every page carries. The CSP allows
// only our own stylesheet and script: no inline script or style, no third-party origin.
import type { JSX } from "hono/jsx/jsx-runtime";

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
};

export interface PageOptions {
  status?: number;
  /** "public" pages (snapshot reads) may be cached for `maxAge`; everything else is no-store. */
  cache?: { maxAge: number } | "no-store";
  headers?: Record<string, string | string[]>;
}

export async function renderToHtml(node: JSX.Element): Promise<string> {
  return `<!doctype html>${await node.toString()}`;
}

export function htmlResponse(html: string, options: PageOptions = {}): Response {
  const headers = new Headers(SECURITY_HEADERS);
  headers.set("content-type", "text/html; charset=utf-8");
  const cache = options.cache ?? "no-store";
  headers.set("cache-control", cache === "no-store" ? "no-store" : `public, max-age=${cache.maxAge}`);
  for (const [k, v] of Object.entries(options.headers ?? {})) {
    if (Array.isArray(v)) for (const item of v) headers.append(k, item);
    else headers.set(k, v);
  }
  return new Response(html, { status: options.status ?? 200, headers });
}

/** 304 to a conditional GET whose ETag still matches (no body; the validators and cache policy). */
export function notModified(etag: string, maxAge: number): Response {
  const headers = new Headers(SECURITY_HEADERS);
  headers.set("etag", etag);
  headers.set("cache-control", `public, max-age=${maxAge}`);
  return new Response(null, { status: 304, headers });
}

export async function page(node: JSX.Element, options: PageOptions = {}): Promise<Response> {
  return htmlResponse(await renderToHtml(node), options);
}
