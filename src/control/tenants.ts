// Creator endpoints over their tenants: list, show (config + live meter stats), patch, delete.
import type { IRequest } from "itty-router";
import { ApiError } from "../http/errors.ts";
import { json } from "../http/json.ts";
import { readJson } from "../http/body.ts";
import { SlugSchema, TenantConfigPatchSchema, type TenantConfig } from "../config/tenant-config.ts";
import { slugProblem } from "../config/slug.ts";
import {
  deleteTenantStatements,
  hostsTakenByOthers,
  listTenantsByOwner,
  loadTenantBySlug,
  saveTenantStatements,
} from "../tenancy/tenant-store.ts";
import { meterFor } from "../tenancy/meter-config.ts";
import { requireCreator } from "./auth.ts";
import { auditStatement } from "./audit.ts";
import { checkTenantConfig, tenantView } from "./tenant-rules.ts";
import { pushMeterConfig } from "./meter-sync.ts";
import type { PlatformContext } from "./context.ts";
import * as v from "valibot";

export function slugParam(request: IRequest): string {
  const slug = request.params.slug ?? "";
  const problem = slugProblem(slug);
  if (problem)
    throw new ApiError(
      400,
      "invalid_slug",
      `invalid slug '${slug.slice(0, 60)}' (${problem}): use 3-40 chars of a-z, 0-9 and '-', not a reserved word`,
    );
  return v.parse(SlugSchema, slug);
}

/** The caller's own live tenant, or 404 (another creator's tenant is indistinguishable from none). */
export async function ownedTenant(pc: PlatformContext, creatorId: string, slug: string): Promise<TenantConfig> {
  const row = await loadTenantBySlug(pc.env.DB, slug);
  if (!row || row.deletedAt !== null || row.owner !== creatorId)
    throw new ApiError(404, "tenant_not_found", `no tenant '${slug}' in your account`);
  return row.config;
}

export function originOf(request: Request): string {
  return new URL(request.url).origin;
}

export async function listTenants(request: IRequest, pc: PlatformContext): Promise<Response> {
  const principal = await requireCreator(request, pc.env, pc.ctx, "tenants:read");
  const rows = await listTenantsByOwner(pc.env.DB, principal.creatorId);
  return json({ tenants: rows.map((r) => tenantView(r.config, originOf(request))) });
}

export async function getTenant(request: IRequest, pc: PlatformContext): Promise<Response> {
  const principal = await requireCreator(request, pc.env, pc.ctx, "tenants:read");
  const config = await ownedTenant(pc, principal.creatorId, slugParam(request));
  const stats = await meterFor(pc.env, config.slug).stats(pc.now);
  return json({ tenant: tenantView(config, originOf(request)), stats });
}

export async function patchTenant(request: IRequest, pc: PlatformContext): Promise<Response> {
  const principal = await requireCreator(request, pc.env, pc.ctx, "tenants:write");
  const slug = slugParam(request);
  const patch = await readJson(request, TenantConfigPatchSchema, "patch");
  const previous = await ownedTenant(pc, principal.creatorId, slug);
  const next = checkTenantConfig(
    { ...previous, ...patch, version: previous.version + 1, updatedAt: pc.now },
    pc.env,
    previous,
  );
  const taken = await hostsTakenByOthers(pc.env.DB, slug, next.hosts);
  if (taken.length) throw new ApiError(409, "host_taken", `host already in use: ${taken.join(", ")}`, { hosts: taken });
  const db = pc.env.DB;
  await db
    .batch([
      // Optimistic concurrency: the UPDATE only applies if nobody changed the tenant meanwhile.
      ...guardedSave(db, next, previous.version),
      auditStatement(db, {
        actor: principal.keyId,
        action: "tenant.update",
        subject: slug,
        requestId: pc.requestId,
        detail: { version: next.version, changed: Object.keys(patch) },
        now: pc.now,
      }),
    ])
    .catch(rethrowConflict);
  await pushMeterConfig(pc.env, next);
  return json({ tenant: tenantView(next, originOf(request)) });
}

export async function deleteTenant(request: IRequest, pc: PlatformContext): Promise<Response> {
  const principal = await requireCreator(request, pc.env, pc.ctx, "tenants:write");
  const slug = slugParam(request);
  const config = await ownedTenant(pc, principal.creatorId, slug);
  const db = pc.env.DB;
  await db.batch([
    ...deleteTenantStatements(db, slug, pc.now),
    auditStatement(db, {
      actor: principal.keyId,
      action: "tenant.delete",
      subject: slug,
      requestId: pc.requestId,
      detail: { version: config.version },
      now: pc.now,
    }),
  ]);
  await pushMeterConfig(pc.env, { ...config, version: config.version + 1 }, true);
  pc.ctx.waitUntil(deleteArtifacts(pc.env, slug, (_key, version) => version <= config.version));
  return json({ slug, deleted: true });
}

/** Save statements preceded by a version check that aborts the whole batch on a lost race. */
export function guardedSave(db: D1Database, next: TenantConfig, expectedVersion: number | null): D1PreparedStatement[] {
  const guard =
    expectedVersion === null
      ? db
          .prepare(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM tenants WHERE slug = ? AND deleted_at IS NULL) THEN json_extract('x', '$') END",
          )
          .bind(next.slug)
      : db
          .prepare("SELECT CASE WHEN (SELECT version FROM tenants WHERE slug = ?) != ? THEN json_extract('x', '$') END")
          .bind(next.slug, expectedVersion);
  return [guard, ...saveTenantStatements(db, next)];
}

function rethrowConflict(err: unknown): never {
  const message = String(err);
  if (message.includes("malformed JSON"))
    throw new ApiError(409, "concurrent_update", "the tenant changed while this request ran; retry");
  if (message.includes("UNIQUE constraint failed: tenant_hosts.host"))
    throw new ApiError(409, "host_taken", "a requested host was just taken by another tenant");
  throw err;
}
export { rethrowConflict };

/** Deletes the tenant's R2 objects that `doomed` selects (never blindly all: a redeploy may be writing). */
export async function deleteArtifacts(
  env: Env,
  slug: string,
  doomed: (key: string, version: number) => boolean,
): Promise<void> {
  let cursor: string | undefined;
  do {
    const listing = await env.ARTIFACTS.list({ prefix: `tenants/${slug}/`, ...(cursor ? { cursor } : {}) });
    const keys = listing.objects.map((o) => o.key).filter((key) => doomed(key, versionOfKey(key)));
    if (keys.length) await env.ARTIFACTS.delete(keys);
    cursor = listing.truncated ? listing.cursor : undefined;
  } while (cursor);
}

function versionOfKey(key: string): number {
  return Number(/\/v(\d+)\//.exec(key)?.[1] ?? NaN);
}
