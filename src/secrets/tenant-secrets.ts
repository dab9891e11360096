// Tenant secrets at rest: the crypto and the runtime read. Encrypted in D1 `tenant_secrets`
// (AES-GCM, per-tenant key = HKDF-SHA256(SECRETS_KEY, info "402claw tenant secrets v1:<slug>"),
// AAD "<slug>/<name>"). It lives below both the control plane (which writes secrets at deploy,
// src/control/secrets.ts) and the tenant runtimes (which inject them), so neither imports the
// other. Decrypted values go only to what injects them, never to a response or a log.
import { ApiError } from "../http/errors.ts";
import { configOf } from "../config/env.ts";

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

function b64(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = "";
  for (const b of view) s += String.fromCharCode(b);
  return btoa(s);
}

function unb64(text: string): Uint8Array<ArrayBuffer> {
  const raw = atob(text);
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function masterKey(env: Env): string {
  const key = configOf(env).secretsKey;
  if (!key) {
    throw new ApiError(
      503,
      "secrets_unavailable",
      "tenant secrets are not configured on this platform (SECRETS_KEY missing)",
    );
  }
  return key;
}

/** The tenant's AES-GCM key, derived once per isolate and slug. */
export function tenantKey(env: Env, slug: string): Promise<CryptoKey> {
  const master = masterKey(env);
  const cacheKey = `${slug}\u0000${master}`;
  let key = keyCache.get(cacheKey);
  if (!key) {
    key = (async () => {
      const base = await crypto.subtle.importKey("raw", encoder.encode(master), "HKDF", false, ["deriveKey"]);
      const info = encoder.encode(`402claw tenant secrets v1:${slug}`);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: encoder.encode("402claw-secrets"), info },
        base,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      );
    })();
    if (keyCache.size > 1000) keyCache.clear();
    keyCache.set(cacheKey, key);
  }
  return key;
}

/** Encrypts one secret value: base64 iv and ciphertext, as stored in D1. */
export async function encryptSecret(
  key: CryptoKey,
  slug: string,
  name: string,
  value: string,
): Promise<{ iv: string; ciphertext: string }> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const additionalData = encoder.encode(`${slug}/${name}`);
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData }, key, encoder.encode(value));
  return { iv: b64(iv), ciphertext: b64(ct) };
}

/** Decrypts the named secrets of a tenant (missing names are simply absent). Runtime use only. */
export async function readSecrets(env: Env, slug: string, names: readonly string[]): Promise<Record<string, string>> {
  if (!names.length) return {};
  const placeholders = names.map(() => "?").join(",");
  const { results } = await env.DB.prepare(
    `SELECT name, iv, ciphertext FROM tenant_secrets WHERE slug = ? AND name IN (${placeholders})`,
  )
    .bind(slug, ...names)
    .all<{ name: string; iv: string; ciphertext: string }>();
  const key = await tenantKey(env, slug);
  const out: Record<string, string> = {};
  for (const row of results) {
    const additionalData = encoder.encode(`${slug}/${row.name}`);
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: unb64(row.iv), additionalData },
      key,
      unb64(row.ciphertext),
    );
    out[row.name] = new TextDecoder().decode(plain);
  }
  return out;
}
