// API key material: generation, HMAC-SHA256 hashing with the server secret, constant-time checks.
// A key is shown once at creation; only its hash and a short display prefix are stored.
export const API_KEY_SCOPES = ["tenants:read", "tenants:write", "keys:manage"] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function randomId(prefix: string): string {
  return `${prefix}_${base64url(crypto.getRandomValues(new Uint8Array(12)))}`;
}

/** A new secret key: `claw_sk_` + 256 random bits. */
export function generateApiKey(): string {
  return `claw_sk_${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

export function keyPrefix(key: string): string {
  return key.slice(0, 14);
}

export async function hashApiKey(key: string, secret: string): Promise<string> {
  const hmac = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return hex(await crypto.subtle.sign("HMAC", hmac, encoder.encode(key)));
}

/** Equal-length digests compared without early exit, so timing says nothing about the match. */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db) && a.length === b.length;
}

export function bearerToken(request: Request): string | null {
  const header = request.headers.get("authorization");
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1] ?? null;
}
