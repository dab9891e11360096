// Tenant secrets: encrypted at rest in D1 (AES-GCM, per-tenant key = HKDF-SHA256(SECRETS_KEY,
// info "402claw tenant secrets v1:<slug>"), AAD "<slug>/<name>"). Values never leave this module
// except to what injects them: the runtime (function env via exposeEnv, proxy header injection)
// and `claw publish`'s upload to Cloudflare (secret_text bindings). Never to a response or log.
import { ApiError } from "../http/errors.ts";
import { configOf } from "../config/env.ts";

export const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;
const MAX_SECRETS = 50;
const MAX_SECRET_BYTES = 8 * 1024;

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
  if (!key) throw new ApiError(503, "secrets_unavailable", "tenant secrets are not configured on this platform (SECRETS_KEY missing)");
  return key;
}

function tenantKey(env: Env, slug: string): Promise<CryptoKey> {
  const master = masterKey(env);
  const cacheKey = `${slug}\u0000${master}`;
  let key = keyCache.get(cacheKey);
  if (!key) {
    key = (async () => {
      const base = await crypto.subtle.importKey("raw", encoder.encode(master), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: encoder.encode("402claw-secrets"), info: encoder.encode(`402claw tenant secrets v1:${slug}`) },
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

/** Validates the `secrets` multipart part: a JSON object of NAME → string value. */
export function parseSecretsPart(text: string | null): Record<string, string> {
  if (text === null) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ApiError(400, "invalid_secrets", "the `secrets` part is not valid JSON");
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new ApiError(400, "invalid_secrets", "the `secrets` part must be a JSON object {NAME: value}");
  const out: Record<string, string> = {};
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > MAX_SECRETS) throw new ApiError(400, "invalid_secrets", `at most ${MAX_SECRETS} secrets per deploy`);
  for (const [name, value] of entries) {
    // Problems name the secret, never its value.
    if (!SECRET_NAME.test(name)) throw new ApiError(400, "invalid_secrets", `secret name '${name.slice(0, 70)}' must match [A-Z][A-Z0-9_]{0,63}`);
    if (typeof value !== "string" || value.length === 0) throw new ApiError(400, "invalid_secrets", `secret ${name} must be a non-empty string`);
    if (encoder.encode(value).byteLength > MAX_SECRET_BYTES) throw new ApiError(400, "invalid_secrets", `secret ${name} is longer than ${MAX_SECRET_BYTES} bytes`);
    out[name] = value;
  }
  return out;
}

/** Upsert statements for the given secrets (to run in the deploy's D1 batch). */
export async function secretStatements(env: Env, db: D1Database, slug: string, secrets: Record<string, string>, now: number): Promise<D1PreparedStatement[]> {
  const names = Object.keys(secrets);
  if (!names.length) return [];
  const key = await tenantKey(env, slug);
  return Promise.all(
    names.map(async (name) => {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(`${slug}/${name}`) }, key, encoder.encode(secrets[name]!));
      return db
        .prepare("INSERT INTO tenant_secrets (slug, name, iv, ciphertext, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (slug, name) DO UPDATE SET iv = excluded.iv, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at")
        .bind(slug, name, b64(iv), b64(ct), now);
    }),
  );
}

export function clearSecretsStatement(db: D1Database, slug: string): D1PreparedStatement {
  return db.prepare("DELETE FROM tenant_secrets WHERE slug = ?").bind(slug);
}

export async function secretNames(db: D1Database, slug: string): Promise<string[]> {
  const { results } = await db.prepare("SELECT name FROM tenant_secrets WHERE slug = ? ORDER BY name").bind(slug).all<{ name: string }>();
  return results.map((r) => r.name);
}

/** Decrypts the named secrets of a tenant (missing names are simply absent). Runtime use only. */
export async function readSecrets(env: Env, slug: string, names: readonly string[]): Promise<Record<string, string>> {
  if (!names.length) return {};
  const placeholders = names.map(() => "?").join(",");
  const { results } = await env.DB.prepare(`SELECT name, iv, ciphertext FROM tenant_secrets WHERE slug = ? AND name IN (${placeholders})`)
    .bind(slug, ...names)
    .all<{ name: string; iv: string; ciphertext: string }>();
  const key = await tenantKey(env, slug);
  const out: Record<string, string> = {};
  for (const row of results) {
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: unb64(row.iv), additionalData: encoder.encode(`${slug}/${row.name}`) }, key, unb64(row.ciphertext));
    out[row.name] = new TextDecoder().decode(plain);
  }
  return out;
}
