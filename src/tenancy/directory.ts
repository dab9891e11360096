// Per-isolate cache in front of the D1 tenant directory. Entries live for CONFIG_CACHE_TTL_MS
// and are dropped early when the TenantMeter reports a newer config version than the cached one,
// so a deploy is visible on the next call without a D1 read on every call.
import type { TenantConfig } from "../config/tenant-config.ts";
import { loadTenantBySlug, slugForHost } from "./tenant-store.ts";

interface Cached<T> {
  value: T;
  expiresAt: number;
}

const bySlug = new Map<string, Cached<TenantConfig | null>>();
const byHost = new Map<string, Cached<string | null>>();
const MAX_ENTRIES = 5000;

function remember<T>(map: Map<string, Cached<T>>, key: string, value: T, ttlMs: number): void {
  if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value as string); // oldest first
  map.set(key, { value, expiresAt: Date.now() + ttlMs });
}

function fresh<T>(map: Map<string, Cached<T>>, key: string): Cached<T> | undefined {
  const hit = map.get(key);
  if (hit && hit.expiresAt > Date.now()) return hit;
  if (hit) map.delete(key);
  return undefined;
}

export class TenantDirectory {
  constructor(
    private readonly db: D1Database,
    private readonly ttlMs: number,
  ) {}

  /** Live (not deleted) tenant config by slug, or null. */
  async bySlug(slug: string): Promise<TenantConfig | null> {
    const hit = fresh(bySlug, slug);
    if (hit) return hit.value;
    const row = await loadTenantBySlug(this.db, slug);
    const config = row && row.deletedAt === null ? row.config : null;
    remember(bySlug, slug, config, this.ttlMs);
    return config;
  }

  async byHost(host: string): Promise<TenantConfig | null> {
    const hit = fresh(byHost, host);
    const slug = hit ? hit.value : await slugForHost(this.db, host);
    if (!hit) remember(byHost, host, slug, this.ttlMs);
    return slug ? this.bySlug(slug) : null;
  }

  /** Called when the meter enforces another version than the one this isolate cached. */
  static forget(slug: string): void {
    bySlug.delete(slug);
    for (const [host, entry] of byHost) if (entry.value === slug) byHost.delete(host);
  }
}
