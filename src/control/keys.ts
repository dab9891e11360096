// Creators and their API keys: the operator creates creators (with a first key); creators list,
// create and revoke their own keys. Keys are returned in full exactly once.
import * as v from "valibot";
import type { IRequest } from "itty-router";
import { ApiError } from "../http/errors.ts";
import { json } from "../http/json.ts";
import { readJson } from "../http/body.ts";
import { API_KEY_SCOPES, generateApiKey, hashApiKey, keyPrefix, randomId, type ApiKeyScope } from "./api-keys.ts";
import { requireCreator, requireOperator } from "./auth.ts";
import { auditStatement } from "./audit.ts";
import type { PlatformContext } from "./context.ts";

const KeyInputSchema = v.strictObject({
  name: v.optional(v.pipe(v.string(), v.maxLength(100)), ""),
  scopes: v.optional(v.pipe(v.array(v.picklist(API_KEY_SCOPES)), v.minLength(1)), [...API_KEY_SCOPES]),
});

const CreatorInputSchema = v.strictObject({
  name: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(100)),
  email: v.optional(v.pipe(v.string(), v.email(), v.maxLength(200))),
  key: v.optional(KeyInputSchema, {}),
});

interface IssuedKey {
  id: string;
  key: string;
  prefix: string;
  name: string;
  scopes: ApiKeyScope[];
  createdAt: number;
}

async function issueKey(
  pc: PlatformContext,
  creatorId: string,
  input: v.InferOutput<typeof KeyInputSchema>,
): Promise<{ key: IssuedKey; statement: D1PreparedStatement }> {
  const key = generateApiKey();
  const issued: IssuedKey = {
    id: randomId("key"),
    key,
    prefix: keyPrefix(key),
    name: input.name,
    scopes: [...new Set(input.scopes)],
    createdAt: pc.now,
  };
  const statement = pc.env.DB.prepare(
    "INSERT INTO api_keys (id, creator_id, key_hash, prefix, name, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  ).bind(
    issued.id,
    creatorId,
    await hashApiKey(key, pc.config.apiKeySecret),
    issued.prefix,
    issued.name,
    JSON.stringify(issued.scopes),
    pc.now,
  );
  return { key: issued, statement };
}

export async function createCreator(request: IRequest, pc: PlatformContext): Promise<Response> {
  await requireOperator(request, pc.env);
  const input = await readJson(request, CreatorInputSchema, "creator");
  const creator = { id: randomId("cr"), name: input.name, email: input.email ?? null, createdAt: pc.now };
  const { key, statement } = await issueKey(pc, creator.id, input.key);
  const db = pc.env.DB;
  await db.batch([
    db
      .prepare("INSERT INTO creators (id, name, email, created_at) VALUES (?, ?, ?, ?)")
      .bind(creator.id, creator.name, creator.email, pc.now),
    statement,
    auditStatement(db, {
      actor: "operator",
      action: "creator.create",
      subject: creator.id,
      requestId: pc.requestId,
      detail: { keyId: key.id },
      now: pc.now,
    }),
  ]);
  return json({ creator, apiKey: key }, { status: 201 });
}

export async function listCreators(request: IRequest, pc: PlatformContext): Promise<Response> {
  await requireOperator(request, pc.env);
  const { results } = await pc.env.DB.prepare(
    "SELECT id, name, email, created_at AS createdAt FROM creators ORDER BY created_at",
  ).all();
  return json({ creators: results });
}

export async function operatorCreateKey(request: IRequest, pc: PlatformContext): Promise<Response> {
  await requireOperator(request, pc.env);
  const creatorId = request.params.id ?? "";
  const exists = await pc.env.DB.prepare("SELECT id FROM creators WHERE id = ?").bind(creatorId).first();
  if (!exists) throw new ApiError(404, "creator_not_found", `no creator '${creatorId}'`);
  const input = await readJson(request, KeyInputSchema, "key");
  const { key, statement } = await issueKey(pc, creatorId, input);
  await pc.env.DB.batch([
    statement,
    auditStatement(pc.env.DB, {
      actor: "operator",
      action: "key.create",
      subject: key.id,
      requestId: pc.requestId,
      now: pc.now,
    }),
  ]);
  return json({ apiKey: key }, { status: 201 });
}

export async function createOwnKey(request: IRequest, pc: PlatformContext): Promise<Response> {
  const principal = await requireCreator(request, pc.env, pc.ctx, "keys:manage");
  const input = await readJson(request, KeyInputSchema, "key");
  const { key, statement } = await issueKey(pc, principal.creatorId, input);
  await pc.env.DB.batch([
    statement,
    auditStatement(pc.env.DB, {
      actor: principal.keyId,
      action: "key.create",
      subject: key.id,
      requestId: pc.requestId,
      now: pc.now,
    }),
  ]);
  return json({ apiKey: key }, { status: 201 });
}

export async function listOwnKeys(request: IRequest, pc: PlatformContext): Promise<Response> {
  const principal = await requireCreator(request, pc.env, pc.ctx, "keys:manage");
  const { results } = await pc.env.DB.prepare(
    "SELECT id, prefix, name, scopes, created_at, last_used_at, revoked_at FROM api_keys WHERE creator_id = ? ORDER BY created_at",
  )
    .bind(principal.creatorId)
    .all<{
      id: string;
      prefix: string;
      name: string;
      scopes: string;
      created_at: number;
      last_used_at: number | null;
      revoked_at: number | null;
    }>();
  const keys = results.map((r) => ({
    id: r.id,
    prefix: r.prefix,
    name: r.name,
    scopes: JSON.parse(r.scopes) as string[],
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
    current: r.id === principal.keyId,
  }));
  return json({ keys });
}

export async function revokeOwnKey(request: IRequest, pc: PlatformContext): Promise<Response> {
  const principal = await requireCreator(request, pc.env, pc.ctx, "keys:manage");
  const keyId = request.params.id ?? "";
  const db = pc.env.DB;
  const row = await db
    .prepare("SELECT revoked_at FROM api_keys WHERE id = ? AND creator_id = ?")
    .bind(keyId, principal.creatorId)
    .first<{ revoked_at: number | null }>();
  if (!row) throw new ApiError(404, "key_not_found", `no API key '${keyId}'`);
  if (row.revoked_at === null) {
    await db.batch([
      db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").bind(pc.now, keyId),
      auditStatement(db, {
        actor: principal.keyId,
        action: "key.revoke",
        subject: keyId,
        requestId: pc.requestId,
        now: pc.now,
      }),
    ]);
  }
  return json({ id: keyId, revoked: true, revokedAt: row.revoked_at ?? pc.now });
}

export async function whoAmI(request: IRequest, pc: PlatformContext): Promise<Response> {
  const principal = await requireCreator(request, pc.env, pc.ctx, "tenants:read");
  const creator = await pc.env.DB.prepare("SELECT id, name, email, created_at AS createdAt FROM creators WHERE id = ?")
    .bind(principal.creatorId)
    .first();
  return json({ creator, keyId: principal.keyId, scopes: principal.scopes });
}
