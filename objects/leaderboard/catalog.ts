// What the rollup needs from D1 besides the shards (docs/ARCHITECTURE.md §7): the published APIs
// (tenants not deleted) with their public facts, and each creator's linked wallets (every payTo of
// their tenants, deleted ones included, plus the wallets registered at /v1/wallets). Read-only;
// one D1 batch. The tenants and wallets tables are written by the control plane (src/control/);
// this reader only depends on the stored config's schema (src/config/).
import * as v from "valibot";
import { TenantConfigSchema, type TenantConfig } from "../../src/config/tenant-config.ts";
import { assetFor } from "../../src/config/assets.ts";
import { usdToAtomic } from "../shared/money.ts";
import { requirementsFor } from "../../src/payments/requirements.ts";
import type { Catalog, CatalogApi } from "./snapshot-types.ts";

interface TenantRow {
  slug: string;
  owner: string;
  config: string;
  deleted_at: number | null;
  updated_at: number;
}

export async function loadCatalog(db: D1Database): Promise<Catalog> {
  const [tenants, wallets] = await db.batch([
    db.prepare("SELECT slug, owner, config, deleted_at, updated_at FROM tenants ORDER BY slug"),
    db.prepare("SELECT creator_id, address FROM creator_wallets"),
  ]);
  const catalog: Catalog = { apis: [], linkedByOwner: new Map(), ownerBySlug: new Map() };
  const link = (owner: string, address: string) => {
    const set = catalog.linkedByOwner.get(owner) ?? new Set<string>();
    set.add(address.toLowerCase());
    catalog.linkedByOwner.set(owner, set);
  };
  for (const w of (wallets?.results ?? []) as { creator_id: string; address: string }[]) link(w.creator_id, w.address);
  for (const row of (tenants?.results ?? []) as unknown as TenantRow[]) {
    catalog.ownerBySlug.set(row.slug, row.owner);
    const config = parseConfig(row);
    if (config?.payTo) link(row.owner, config.payTo);
    if (row.deleted_at !== null || !config) continue;
    catalog.apis.push(catalogApi(config, row.updated_at));
  }
  return catalog;
}

function parseConfig(row: TenantRow): TenantConfig | null {
  try {
    const parsed = v.safeParse(TenantConfigSchema, JSON.parse(row.config));
    if (parsed.success) return parsed.output;
  } catch {
    // fall through: a hand-edited row must not stop the whole rollup
  }
  console.warn(`leaderboard: tenant ${row.slug} has an invalid stored config; not listed`);
  return null;
}

function catalogApi(config: TenantConfig, updatedAt: number): CatalogApi {
  const asset = assetFor(config.network, config.asset);
  const decimals = asset?.decimals ?? 6;
  const priceAtomic = asset ? usdToAtomic(config.priceUsd, decimals).toString() : "0";
  let accepts: unknown[] = [];
  try {
    const requirements = requirementsFor(config);
    if (requirements) accepts = [requirements];
  } catch {
    // a paid tenant without asset/payTo cannot be paid: it is listed, not discoverable
  }
  return {
    slug: config.slug,
    owner: config.owner,
    directory: config.directory,
    description: config.description,
    resourceType: config.resourceType,
    paid: priceAtomic !== "0",
    priceAtomic,
    decimals,
    network: config.network,
    payTo: config.payTo ? config.payTo.toLowerCase() : null,
    hosts: config.hosts,
    accepts,
    updatedAt: Number.isFinite(updatedAt) ? updatedAt : config.updatedAt,
  };
}
