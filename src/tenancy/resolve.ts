// Pure request → target resolution (docs/ARCHITECTURE.md §3). Platform hosts serve platform routes and
// `/t/:slug/*`; any other host belongs wholly to the tenant that registered it.
export type Target =
  | { kind: "platform"; path: string }
  | { kind: "tenant-path"; slug: string; path: string }
  | { kind: "tenant-host"; host: string; path: string };

// Parsed with the rest of the config (src/config/env.ts); re-exported for existing importers.
export { parsePlatformHosts } from "../config/env.ts";

export function resolveTarget(url: URL, platformHosts: ReadonlySet<string>): Target {
  const host = url.hostname.toLowerCase();
  if (!platformHosts.has(host)) return { kind: "tenant-host", host, path: url.pathname };
  const match = /^\/t\/([^/]*)(\/.*)?$/.exec(url.pathname);
  if (!match) return { kind: "platform", path: url.pathname };
  // The slug stays raw here; it is validated before any lookup so bad input gets a clear code.
  return { kind: "tenant-path", slug: safeDecode(match[1] ?? ""), path: match[2] ?? "/" };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // malformed %-escapes: left as is, so slug validation refuses them
  }
}
