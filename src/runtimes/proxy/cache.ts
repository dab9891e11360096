// Proxy GET cache: policy (pure) + a small per-isolate LRU. Why not the Cache API: it is per-colo,
// absent on workers.dev and in some local setups, and cannot be scoped or bounded per tenant; a
// bounded in-memory LRU keyed by tenant@version is predictable and enough for a hot path. The
// trade-off (documented in README): each isolate warms its own cache.

/** Seconds to cache a response for, or 0 (do not cache). Honours no-store/private/no-cache, max-age. */
export function cacheTtlFor(method: string, status: number, headers: Headers, configuredTtl: number): number {
  if (configuredTtl <= 0 || method !== "GET" || status !== 200) return 0;
  if (headers.has("set-cookie")) return 0;
  const cc = (headers.get("cache-control") ?? "").toLowerCase();
  const directives = new Map<string, string | true>();
  for (const part of cc.split(",")) {
    const [name, value] = part.trim().split("=", 2) as [string, string | undefined];
    if (name) directives.set(name, value === undefined ? true : value.replace(/^"|"$/g, ""));
  }
  if (directives.has("no-store") || directives.has("private") || directives.has("no-cache")) return 0;
  if ((headers.get("pragma") ?? "").toLowerCase().includes("no-cache")) return 0;
  let ttl = configuredTtl;
  for (const name of ["s-maxage", "max-age"]) {
    const raw = directives.get(name);
    if (typeof raw === "string" && /^\d+$/.test(raw)) {
      ttl = Math.min(ttl, Number(raw));
      break;
    }
  }
  return ttl;
}

export interface CachedResponse {
  status: number;
  headers: [string, string][];
  body: ArrayBuffer;
  expiresAt: number;
}

export class LruCache {
  private readonly map = new Map<string, CachedResponse>();
  private bytes = 0;
  constructor(
    private readonly maxEntries = 500,
    private readonly maxBytes = 32 * 1024 * 1024,
  ) {}

  get(key: string, now: number): CachedResponse | null {
    const hit = this.map.get(key);
    if (!hit) return null;
    this.map.delete(key);
    if (hit.expiresAt <= now) {
      this.bytes -= hit.body.byteLength;
      return null;
    }
    this.map.set(key, hit); // most recently used goes last
    return hit;
  }

  set(key: string, value: CachedResponse): void {
    const old = this.map.get(key);
    if (old) {
      this.map.delete(key);
      this.bytes -= old.body.byteLength;
    }
    this.map.set(key, value);
    this.bytes += value.body.byteLength;
    while (this.map.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      const entry = this.map.get(oldest.value)!;
      this.map.delete(oldest.value);
      this.bytes -= entry.body.byteLength;
    }
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
}
