// What a payment pays for (docs/ARCHITECTURE.md §4, §9.2): a fingerprint of the request it was
// presented with, so the payment book binds a payment (and through it its Idempotency-Key) to
// one request. A settled payment presented again with another request must not return the first
// request's stored response, and an in-flight one must not buy a second, different call.
//
// The fingerprint is SHA-256 over "METHOD path?query" (the tenant path exactly as the caller sent
// it, opaque; the raw query string, unparsed, so `?a=1&b=2` and `?b=2&a=1` are different
// requests), hex, prefixed with its version so the form can change without silent mismatches.

/** Longest fingerprint the payment book accepts (a v1 fingerprint is 67 characters). */
export const MAX_FINGERPRINT_LENGTH = 128;

/** The fingerprint of a request to a tenant: `requestFingerprint("GET", "/v1/records", "limit=1")`. */
export async function requestFingerprint(method: string, path: string, query: string): Promise<string> {
  const search = query.startsWith("?") ? query.slice(1) : query;
  const canonical = `${method.toUpperCase()} ${path}?${search}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  return `v1:${hex}`;
}
