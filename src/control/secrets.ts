// Tenant secrets on the control plane: the deploy's `secrets` part, its D1 upserts and names.
// The crypto and the runtime read live in src/secrets/tenant-secrets.ts (below both this and the
// runtimes). Values go only to what injects them: the runtime (function env via exposeEnv, proxy
// header injection) and `claw publish`'s upload to Cloudflare (secret_text bindings). Never to a
// response or log.
import { ApiError } from "../http/errors.ts";
import { encryptSecret, tenantKey } from "../secrets/tenant-secrets.ts";

export { readSecrets } from "../secrets/tenant-secrets.ts";

export const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;
const MAX_SECRETS = 50;
const MAX_SECRET_BYTES = 8 * 1024;

const encoder = new TextEncoder();

/** Validates the `secrets` multipart part: a JSON object of NAME → string value. */
export function parseSecretsPart(text: string | null): Record<string, string> {
  if (text === null) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ApiError(400, "invalid_secrets", "the `secrets` part is not valid JSON");
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    throw new ApiError(400, "invalid_secrets", "the `secrets` part must be a JSON object {NAME: value}");
  const out: Record<string, string> = {};
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > MAX_SECRETS)
    throw new ApiError(400, "invalid_secrets", `at most ${MAX_SECRETS} secrets per deploy`);
  for (const [name, value] of entries) {
    // Problems name the secret, never its value.
    if (!SECRET_NAME.test(name))
      throw new ApiError(400, "invalid_secrets", `secret name '${name.slice(0, 70)}' must match [A-Z][A-Z0-9_]{0,63}`);
    if (typeof value !== "string" || value.length === 0)
      throw new ApiError(400, "invalid_secrets", `secret ${name} must be a non-empty string`);
    if (encoder.encode(value).byteLength > MAX_SECRET_BYTES)
      throw new ApiError(400, "invalid_secrets", `secret ${name} is longer than ${MAX_SECRET_BYTES} bytes`);
    out[name] = value;
  }
  return out;
}

/** Upsert statements for the given secrets (to run in the deploy's D1 batch). */
export async function secretStatements(
  env: Env,
  db: D1Database,
  slug: string,
  secrets: Record<string, string>,
  now: number,
): Promise<D1PreparedStatement[]> {
  const names = Object.keys(secrets);
  if (!names.length) return [];
  const key = await tenantKey(env, slug);
  return Promise.all(
    names.map(async (name) => {
      const { iv, ciphertext } = await encryptSecret(key, slug, name, secrets[name]!);
      return db
        .prepare(
          "INSERT INTO tenant_secrets (slug, name, iv, ciphertext, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (slug, name) DO UPDATE SET iv = excluded.iv, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
        )
        .bind(slug, name, iv, ciphertext, now);
    }),
  );
}

export function clearSecretsStatement(db: D1Database, slug: string): D1PreparedStatement {
  return db.prepare("DELETE FROM tenant_secrets WHERE slug = ?").bind(slug);
}

export async function secretNames(db: D1Database, slug: string): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT name FROM tenant_secrets WHERE slug = ? ORDER BY name")
    .bind(slug)
    .all<{ name: string }>();
  return results.map((r) => r.name);
}
