// Dashboard sessions in D1 (migrations/0005_web_sessions.sql): an API key signs in once, the
// browser then holds only a random session id (HttpOnly cookie); the key itself is never stored,
// echoed or put in a URL. A session lasts SESSION_TTL_SECONDS and dies with its key's revocation.
import { constantTimeEqual } from "../../control/api-keys.ts";
import type { CreatorPrincipal } from "../../control/auth.ts";
import { sha256Hex } from "../../../objects/leaderboard/snapshot-store.ts";
import { isToken, parseCookies, randomToken, SESSION_COOKIE, SESSION_TTL_SECONDS } from "./cookies.ts";

export interface Session {
  idHash: string;
  creatorId: string;
  keyId: string;
  csrf: string;
  expiresAt: number;
}

export async function createSession(
  db: D1Database,
  principal: CreatorPrincipal,
  now: number,
): Promise<{ id: string; csrf: string }> {
  const id = randomToken();
  const csrf = randomToken();
  await db.batch([
    db.prepare("DELETE FROM web_sessions WHERE expires_at <= ?").bind(now),
    db
      .prepare(
        `INSERT INTO web_sessions (id_hash, creator_id, key_id, csrf, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .bind(await sha256Hex(id), principal.creatorId, principal.keyId, csrf, now, now + SESSION_TTL_SECONDS * 1000),
  ]);
  return { id, csrf };
}

export async function readSession(request: Request, db: D1Database, now: number): Promise<Session | null> {
  const id = parseCookies(request.headers.get("cookie")).get(SESSION_COOKIE);
  if (!isToken(id)) return null;
  const row = await db
    .prepare(
      `SELECT s.id_hash, s.creator_id, s.key_id, s.csrf, s.expires_at FROM web_sessions s
       JOIN api_keys k ON k.id = s.key_id AND k.revoked_at IS NULL
       WHERE s.id_hash = ? AND s.expires_at > ?`,
    )
    .bind(await sha256Hex(id), now)
    .first<{ id_hash: string; creator_id: string; key_id: string; csrf: string; expires_at: number }>();
  if (!row) return null;
  return {
    idHash: row.id_hash,
    creatorId: row.creator_id,
    keyId: row.key_id,
    csrf: row.csrf,
    expiresAt: row.expires_at,
  };
}

export async function deleteSession(db: D1Database, session: Session): Promise<void> {
  await db.prepare("DELETE FROM web_sessions WHERE id_hash = ?").bind(session.idHash).run();
}

export async function csrfMatches(expected: string, given: unknown): Promise<boolean> {
  return typeof given === "string" && isToken(given) && (await constantTimeEqual(expected, given));
}
