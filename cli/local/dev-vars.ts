// .dev.vars holds the local dispatcher's secrets (never committed). Created once with random
// values and reused, so API keys issued by an earlier `claw dev` stay valid.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { REPO_ROOT } from "./paths.ts";

export interface DevSecrets {
  OPERATOR_TOKEN: string;
  API_KEY_SECRET: string;
  SECRETS_KEY: string;
}

export function parseDevVars(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/.exec(line);
    if (match?.[1]) vars[match[1]] = match[2] ?? "";
  }
  return vars;
}

export function ensureDevSecrets(extra: Record<string, string> = {}): DevSecrets {
  const file = join(REPO_ROOT, ".dev.vars");
  const existing = existsSync(file) ? parseDevVars(readFileSync(file, "utf8")) : {};
  const vars: Record<string, string> = {
    OPERATOR_TOKEN: existing.OPERATOR_TOKEN || `op_${randomBytes(24).toString("hex")}`,
    API_KEY_SECRET: existing.API_KEY_SECRET || randomBytes(32).toString("hex"),
    SECRETS_KEY: existing.SECRETS_KEY || randomBytes(32).toString("hex"),
    // Signs the local offers and receipts (x402 offer-receipt); any 32 random bytes are a valid key.
    RECEIPT_SIGNING_KEY: existing.RECEIPT_SIGNING_KEY || `0x${randomBytes(32).toString("hex")}`,
    ...existing,
    ...extra,
  };
  const text =
    Object.entries(vars)
      .map(([k, v]) => `${k}="${v}"`)
      .join("\n") + "\n";
  // Rewrite only on change: parallel test files call this concurrently and must agree.
  if (!existsSync(file) || readFileSync(file, "utf8") !== text) writeFileSync(file, text, { mode: 0o600 });
  return { OPERATOR_TOKEN: vars.OPERATOR_TOKEN!, API_KEY_SECRET: vars.API_KEY_SECRET!, SECRETS_KEY: vars.SECRETS_KEY! };
}
