// Tenant slug rules: lowercase [a-z0-9-], 3-40 chars, no leading/trailing/double dash, not reserved.
export const RESERVED_SLUGS: ReadonlySet<string> = new Set([
  "api",
  "app",
  "www",
  "admin",
  "root",
  "platform",
  "claw",
  "402claw",
  "health",
  "explore",
  "v1",
  "v2",
  "t",
  "static",
  "assets",
  "docs",
  "openapi",
  "discovery",
  "leaderboard",
  "stats",
  "status",
  "login",
  "auth",
  "dashboard",
  "internal",
  "system",
  "null",
  "undefined",
]);

export type SlugProblem = "too_short" | "too_long" | "bad_characters" | "reserved";

/** Returns why a slug is unacceptable, or null when it is fine. */
export function slugProblem(slug: string): SlugProblem | null {
  if (slug.length < 3) return "too_short";
  if (slug.length > 40) return "too_long";
  if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(slug)) return "bad_characters";
  if (RESERVED_SLUGS.has(slug)) return "reserved";
  return null;
}
