// Creator-linked wallets: a creator declares the wallets that are theirs (test wallets, other
// payouts) so the leaderboard weighs their calls zero, like the payTo of their tenants.
//   GET    /v1/wallets            (tenants:read)   → {wallets: [{address, createdAt}]}
//   POST   /v1/wallets {address}  (tenants:write)  → 201 {wallet} (200 if already registered)
//   DELETE /v1/wallets/:address   (tenants:write)  → {address, deleted: true} | 404 wallet_not_found
// Addresses are stored lowercase. A wallet registered by one creator only affects that creator's
// own APIs, so registering someone else's wallet can only lower your own score. Changes apply
// at the next rollup, to every window (scores are recomputed from raw per-payer aggregates).
import type { IRequest } from "itty-router";
import { ApiError } from "../http/errors.ts";
import { json } from "../http/json.ts";
import { readJson } from "../http/body.ts";
import { WalletInput } from "./schemas.ts";
import { requireCreator } from "../control/auth.ts";
import type { PlatformContext } from "../control/context.ts";

export const MAX_WALLETS_PER_CREATOR = 100;

function addressParam(request: IRequest): string {
  const address = request.params.address ?? "";
  if (!/^0x[0-9a-fA-F]{40}$/.test(address))
    throw new ApiError(400, "invalid_address", "address must be a 0x-prefixed 20-byte hex address");
  return address.toLowerCase();
}

export async function listWallets(request: IRequest, pc: PlatformContext): Promise<Response> {
  const principal = await requireCreator(request, pc.env, pc.ctx, "tenants:read");
  const { results } = await pc.env.DB.prepare(
    "SELECT address, created_at AS createdAt FROM creator_wallets WHERE creator_id = ? ORDER BY created_at, address",
  )
    .bind(principal.creatorId)
    .all<{ address: string; createdAt: number }>();
  return json({ wallets: results });
}

export async function addWallet(request: IRequest, pc: PlatformContext): Promise<Response> {
  const principal = await requireCreator(request, pc.env, pc.ctx, "tenants:write");
  const address = (await readJson(request, WalletInput, "wallet")).address.toLowerCase();
  const db = pc.env.DB;
  const existing = await db
    .prepare("SELECT created_at FROM creator_wallets WHERE creator_id = ? AND address = ?")
    .bind(principal.creatorId, address)
    .first<{ created_at: number }>();
  if (existing) return json({ wallet: { address, createdAt: existing.created_at } });
  // One batch: the count guard is part of the insert (a concurrent burst cannot pass the
  // limit) and the audit row is written only if the row was (same batch, same transaction).
  const [inserted] = await db.batch([
    db
      .prepare(
        `INSERT INTO creator_wallets (creator_id, address, created_at)
         SELECT ?1, ?2, ?3 WHERE (SELECT COUNT(*) FROM creator_wallets WHERE creator_id = ?1) < ?4
         ON CONFLICT (creator_id, address) DO NOTHING`,
      )
      .bind(principal.creatorId, address, pc.now, MAX_WALLETS_PER_CREATOR),
    conditionalAudit(
      db,
      "wallet.add",
      principal,
      pc,
      address,
      "EXISTS (SELECT 1 FROM creator_wallets WHERE creator_id = ?7 AND address = ?8 AND created_at = ?1)",
    ),
  ]);
  if ((inserted?.meta.changes ?? 0) === 0) {
    const again = await db
      .prepare("SELECT created_at FROM creator_wallets WHERE creator_id = ? AND address = ?")
      .bind(principal.creatorId, address)
      .first<{ created_at: number }>();
    if (again) return json({ wallet: { address, createdAt: again.created_at } });
    throw new ApiError(
      409,
      "too_many_wallets",
      `a creator may register at most ${MAX_WALLETS_PER_CREATOR} wallets; delete one first`,
    );
  }
  return json({ wallet: { address, createdAt: pc.now } }, { status: 201 });
}

export async function deleteWallet(request: IRequest, pc: PlatformContext): Promise<Response> {
  const principal = await requireCreator(request, pc.env, pc.ctx, "tenants:write");
  const address = addressParam(request);
  const db = pc.env.DB;
  const [, deleted] = await db.batch([
    conditionalAudit(
      db,
      "wallet.delete",
      principal,
      pc,
      address,
      "EXISTS (SELECT 1 FROM creator_wallets WHERE creator_id = ?7 AND address = ?8)",
    ),
    db.prepare("DELETE FROM creator_wallets WHERE creator_id = ? AND address = ?").bind(principal.creatorId, address),
  ]);
  if ((deleted?.meta.changes ?? 0) === 0)
    throw new ApiError(404, "wallet_not_found", `no wallet ${address} registered to your account`);
  return json({ address, deleted: true });
}

/** An audit_log row written only when `condition` holds (?7 = creator id, ?8 = address). */
function conditionalAudit(
  db: D1Database,
  action: string,
  principal: { keyId: string; creatorId: string },
  pc: PlatformContext,
  address: string,
  condition: string,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO audit_log (ts, actor, action, subject, request_id, detail) SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE ${condition}`,
    )
    .bind(
      pc.now,
      principal.keyId,
      action,
      principal.creatorId,
      pc.requestId,
      JSON.stringify({ address }),
      principal.creatorId,
      address,
    );
}
