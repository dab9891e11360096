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

export async function callerFromIp(request: Request, secret: string): Promise<string> {
  const ip = request.headers.get("cf-connecting-ip")?.trim() || "unknown";
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), new TextEncoder().encode(ip));
  const hex = [...new Uint8Array(mac, 0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `ip:${hex}`;
}

/** A caller's self-description, bounded and kept as data only. */
export function callerLabel(request: Request): string | undefined {
  const label = request.headers.get("x-agent-id") ?? request.headers.get("x-caller-id");
  return label ? label.slice(0, 128) : undefined;
}
