// Caller identity for limits. Free calls: an HMAC of the client IP that Cloudflare sets
// (cf-connecting-ip), keyed with a server secret so stored ids cannot be reversed to IPs.
// Caller-supplied headers (x-caller-id, x-agent-id) are only labels: they never pick a bucket.
let cachedKey: { secret: string; key: CryptoKey } | null = null;

async function hmacKey(secret: string): Promise<CryptoKey> {
  // Cache the resolved key, never a promise: promises cannot cross requests in workerd.
  if (cachedKey?.secret === secret) return cachedKey.key;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(`caller:${secret}`),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  cachedKey = { secret, key };
  return key;
}

/**
 * IP → caller id, per isolate and secret: an agent's calls mostly come from one address, and the
 * HMAC is a visible share of a free call's CPU. Bounded; the oldest entry goes first.
 */
const callerIds = new Map<string, string>();
let callerIdsSecret = "";
const MAX_CALLER_IDS = 10_000;

export async function callerFromIp(request: Request, secret: string): Promise<string> {
  const ip = request.headers.get("cf-connecting-ip")?.trim() || "unknown";
  if (callerIdsSecret !== secret) {
    callerIds.clear();
    callerIdsSecret = secret;
  }
  const known = callerIds.get(ip);
  if (known) return known;
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), new TextEncoder().encode(ip));
  const hex = [...new Uint8Array(mac, 0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const id = `ip:${hex}`;
  if (callerIdsSecret === secret) {
    if (callerIds.size >= MAX_CALLER_IDS) callerIds.delete(callerIds.keys().next().value!);
    callerIds.set(ip, id);
  }
  return id;
}

/** A caller's self-description, bounded and kept as data only. */
export function callerLabel(request: Request): string | undefined {
  const label = request.headers.get("x-agent-id") ?? request.headers.get("x-caller-id");
  return label ? label.slice(0, 128) : undefined;
}
