// D1 reads behind the discovery documents (docs/ARCHITECTURE.md §11): the catalog version (one
// aggregate row: changes whenever any tenant is deployed, patched or deleted, since each of those
// bumps that tenant's version and updated_at), the live tenants with their creator's name, and
// one tenant's creator name. Writes stay in src/tenancy/tenant-store.ts.
import * as v from "valibot";
import { TenantConfigSchema, type TenantConfig } from "../config/tenant-config.ts";

export interface CatalogTenant {
  config: TenantConfig;
  creatorName: string | null;
}

/** A short string that changes whenever the set of live tenant configs changes. */
export async function catalogVersion(db: D1Database): Promise<string> {
  const row = await db
    .prepare("SELECT COUNT(*) AS n, COALESCE(SUM(version), 0) AS v, COALESCE(MAX(updated_at), 0) AS u FROM tenants")
    .first<{ n: number; v: number; u: number }>();
  return `${row?.n ?? 0}.${row?.v ?? 0}.${row?.u ?? 0}`;
}

function parseRow(row: Record<string, unknown>): CatalogTenant | null {
  const parsed = v.safeParse(TenantConfigSchema, JSON.parse(String(row.config)));
  // A row that no longer parses (hand edit) is left out of the documents rather than failing them.
  if (!parsed.success) return null;
  return { config: parsed.output, creatorName: row.name == null ? null : String(row.name) };
}

/** Every live tenant (deleted ones excluded), by slug, with its creator's display name. */
export async function liveTenants(db: D1Database): Promise<CatalogTenant[]> {
  const { results } = await db
    .prepare(
      `SELECT t.config, c.name FROM tenants t LEFT JOIN creators c ON c.id = t.owner
              WHERE t.deleted_at IS NULL ORDER BY t.slug`,
    )
    .all();
  return results.map(parseRow).filter((t): t is CatalogTenant => t !== null);
}

export async function creatorName(db: D1Database, owner: string): Promise<string | null> {
  const row = await db.prepare("SELECT name FROM creators WHERE id = ?").bind(owner).first<{ name: string }>();
  return row?.name ?? null;
}

/** The live tenants among `slugs` (for a page of /discovery/resources), keyed by slug. */
export async function tenantsBySlug(db: D1Database, slugs: readonly string[]): Promise<Map<string, TenantConfig>> {
  const out = new Map<string, TenantConfig>();
  if (slugs.length === 0) return out;
  const { results } = await db
    .prepare(`SELECT config FROM tenants WHERE deleted_at IS NULL AND slug IN (SELECT value FROM json_each(?))`)
    .bind(JSON.stringify(slugs))
    .all();
  for (const row of results) {
    const t = parseRow(row);
    if (t) out.set(t.config.slug, t.config);
  }
  return out;
}
