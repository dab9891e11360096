// Which upstream response headers a proxy passes back, and under what name. Rate-limit and
// usage headers describe the upstream's limits on *our* key, not the caller's limits on this
// API: passed through unchanged they would read as ours (and clash with the meter's own
// `RateLimit`/`X-RateLimit-*`, which describe the caller's budget here). So they are renamed
// `x-upstream-<name>`; the caller can still see them, never as ours.
//
// `Retry-After` is kept on 429 and 503: that response *is* the upstream refusing, and the status
// the caller gets, so its Retry-After is the honest advice for retrying this call. On any other
// status it is renamed too (it would otherwise read as our advice).

/** Never passed back: hop-by-hop, cookies, encoding we re-do, our own cache marker. */
const DROP_RESPONSE = new Set([
  "set-cookie",
  "set-cookie2",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "content-encoding",
  "x-claw-cache",
  // The charge report is the proxy's charge rule's to set (charge-rule.ts), never the upstream's.
  "x-claw-charge",
]);

/** `RateLimit`, `RateLimit-Policy`, `RateLimit-Limit|Remaining|Reset`, `X-RateLimit-*`, `X-Rate-Limit-*`,
 * `X-Usage-*`. */
const RATE_HEADER = /^(?:x-)?(?:ratelimit|rate-limit)(?:-.*)?$|^x-usage-/;

/** The name an upstream response header is passed back under, or null when it is dropped. */
export function upstreamHeaderName(name: string, status: number): string | null {
  const lower = name.toLowerCase();
  if (DROP_RESPONSE.has(lower)) return null;
  if (RATE_HEADER.test(lower)) return `x-upstream-${lower.startsWith("x-") ? lower.slice(2) : lower}`;
  if (lower === "retry-after" && status !== 429 && status !== 503) return "x-upstream-retry-after";
  return lower;
}
