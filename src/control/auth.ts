// Who is calling the control plane: the operator (OPERATOR_TOKEN) or a creator (API key + scopes).
import { ApiError } from "../http/errors.ts";
import { configOf } from "../config/env.ts";
import { bearerToken, constantTimeEqual, hashApiKey, type ApiKeyScope } from "./api-keys.ts";

export interface CreatorPrincipal {
  creatorId: string;
  keyId: string;
  scopes: ApiKeyScope[];
}

const CHALLENGE = { "www-authenticate": 'Bearer realm="402claw"' };

function unauthorized(message: string): ApiError {
  return new ApiError(401, "unauthorized", message, undefined, CHALLENGE);
}

export async function requireOperator(request: Request, env: Env): Promise<void> {
  const token = bearerToken(request);
  if (!token) throw unauthorized("operator token required: Authorization: Bearer <token>");
  const expected = configOf(env).operatorToken;
  if (!expected || !(await constantTimeEqual(token, expected))) throw unauthorized("invalid operator token");
}

export async function requireCreator(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  scope: ApiKeyScope,
): Promise<CreatorPrincipal> {
  const key = bearerToken(request);
  if (!key) throw unauthorized("API key required: Authorization: Bearer <claw_sk_...>");
  const hash = await hashApiKey(key, configOf(env).apiKeySecret);
  const row = await env.DB.prepare(
    "SELECT id, creator_id, key_hash, scopes, revoked_at, last_used_at FROM api_keys WHERE key_hash = ?",
  )
    .bind(hash)
    .first<{
      id: string;
      creator_id: string;
      key_hash: string;
      scopes: string;
      revoked_at: number | null;
      last_used_at: number | null;
    }>();
  // The index lookup finds the row; the constant-time compare is what decides.
  if (!row || !(await constantTimeEqual(row.key_hash, hash))) throw unauthorized("invalid API key");
  if (row.revoked_at !== null) throw unauthorized("this API key was revoked");
  const scopes = JSON.parse(row.scopes) as ApiKeyScope[];
  if (!scopes.includes(scope)) throw new ApiError(403, "insufficient_scope", `this API key lacks the '${scope}' scope`);
  const now = Date.now();
  if (row.last_used_at === null || now - row.last_used_at > 60_000) {
    ctx.waitUntil(
      env.DB.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?")
        .bind(now, row.id)
        .run()
        .then(
          () => undefined,
          () => undefined,
        ),
    );
  }
  return { creatorId: row.creator_id, keyId: row.id, scopes };
}
