// D1 access for tenants and their hosts: the only place that reads or writes those tables.
import * as v from "valibot";
import { TenantConfigSchema, type TenantConfig } from "../config/tenant-config.ts";

export interface TenantRow {
  slug: string;
  owner: string;
  version: number;
  config: TenantConfig;
  deletedAt: number | null;
}

function rowToTenant(row: Record<string, unknown>): TenantRow {
  // Stored configs were validated on write; re-validating guards against hand edits in D1.
  const config = v.parse(TenantConfigSchema, JSON.parse(String(row.config)));
  return {
    slug: String(row.slug),
    owner: String(row.owner),
    version: Number(row.version),
    config,
    deletedAt: row.deleted_at == null ? null : Number(row.deleted_at),
  };
}

export async function loadTenantBySlug(db: D1Database, slug: string): Promise<TenantRow | null> {
  const row = await db
    .prepare("SELECT slug, owner, version, config, deleted_at FROM tenants WHERE slug = ?")
    .bind(slug)
    .first();
  return row ? rowToTenant(row) : null;
}

export async function slugForHost(db: D1Database, host: string): Promise<string | null> {
  const row = await db.prepare("SELECT slug FROM tenant_hosts WHERE host = ?").bind(host).first<{ slug: string }>();
  return row?.slug ?? null;
}

export async function listTenantsByOwner(db: D1Database, owner: string): Promise<TenantRow[]> {
  const { results } = await db
    .prepare(
      "SELECT slug, owner, version, config, deleted_at FROM tenants WHERE owner = ? AND deleted_at IS NULL ORDER BY slug",
    )
    .bind(owner)
    .all();
  return results.map(rowToTenant);
}

/** Statements that upsert a tenant at `config.version` and replace its host list. */
export function saveTenantStatements(db: D1Database, config: TenantConfig): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `INSERT INTO tenants (slug, owner, resource_type, version, config, created_at, updated_at, deleted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)
         ON CONFLICT(slug) DO UPDATE SET owner = ?2, resource_type = ?3, version = ?4, config = ?5,
           updated_at = ?7, deleted_at = NULL`,
      )
      .bind(
        config.slug,
        config.owner,
        config.resourceType,
        config.version,
        JSON.stringify(config),
        config.createdAt,
        config.updatedAt,
      ),
    db.prepare("DELETE FROM tenant_hosts WHERE slug = ?").bind(config.slug),
    ...config.hosts.map((host) =>
      db.prepare("INSERT INTO tenant_hosts (host, slug) VALUES (?, ?)").bind(host, config.slug),
    ),
  ];
}

export function deleteTenantStatements(db: D1Database, slug: string, now: number): D1PreparedStatement[] {
  return [
    db
      .prepare("UPDATE tenants SET deleted_at = ?, version = version + 1, updated_at = ? WHERE slug = ?")
      .bind(now, now, slug),
    db.prepare("DELETE FROM tenant_hosts WHERE slug = ?").bind(slug),
    // A deleted tenant's secrets serve no one; keeping them would only keep a liability.
    db.prepare("DELETE FROM tenant_secrets WHERE slug = ?").bind(slug),
  ];
}

/** Hosts in `hosts` already registered to a tenant other than `slug`. */
export async function hostsTakenByOthers(db: D1Database, slug: string, hosts: readonly string[]): Promise<string[]> {
  if (hosts.length === 0) return [];
  const placeholders = hosts.map(() => "?").join(",");
  const { results } = await db
    .prepare(`SELECT host FROM tenant_hosts WHERE host IN (${placeholders}) AND slug != ?`)
    .bind(...hosts, slug)
    .all<{ host: string }>();
  return results.map((r) => r.host);
}
