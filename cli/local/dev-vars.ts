// .dev.vars holds the local dispatcher's secrets (never committed). Created once with random
// values and reused, so API keys issued by an earlier `claw dev` stay valid. Processes that start
// together on a fresh checkout (`npm start` next to `npm test`) agree on one set: the file is
// created with an exclusive link of a complete temporary file, so exactly one creator wins and
// the others read what it wrote; a change replaces the file by rename, so no reader ever sees
// it half-written.
import { existsSync, linkSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { REPO_ROOT } from "./paths.ts";

const DEV_VARS_FILE = join(REPO_ROOT, ".dev.vars");

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

/** What the file should hold: what it holds, the missing secrets made up, `extra` on top. */
function varsFor(existing: Record<string, string>, extra: Record<string, string>): Record<string, string> {
  return {
    OPERATOR_TOKEN: existing.OPERATOR_TOKEN || `op_${randomBytes(24).toString("hex")}`,
    API_KEY_SECRET: existing.API_KEY_SECRET || randomBytes(32).toString("hex"),
    SECRETS_KEY: existing.SECRETS_KEY || randomBytes(32).toString("hex"),
    // Signs the local offers and receipts (x402 offer-receipt); any 32 random bytes are a valid key.
    RECEIPT_SIGNING_KEY: existing.RECEIPT_SIGNING_KEY || `0x${randomBytes(32).toString("hex")}`,
    ...existing,
    ...extra,
  };
}

/** A complete file next to `file`, for linking or renaming into place. */
function temporaryCopy(file: string, text: string): string {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  return tmp;
}

/** Creates `file` with `text` unless it exists: false when another process created it first. */
function createOnce(file: string, text: string): boolean {
  const tmp = temporaryCopy(file, text);
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

export function ensureDevSecrets(extra: Record<string, string> = {}, file = DEV_VARS_FILE): DevSecrets {
  for (;;) {
    const held = existsSync(file) ? readFileSync(file, "utf8") : null;
    const vars = varsFor(held === null ? {} : parseDevVars(held), extra);
    const text =
      Object.entries(vars)
        .map(([k, v]) => `${k}="${v}"`)
        .join("\n") + "\n";
    // Lost the race to create it: read the winner's secrets.
    if (held === null && !createOnce(file, text)) continue;
    // Rewritten only on change, so processes that agree never touch it.
    if (held !== null && held !== text) renameSync(temporaryCopy(file, text), file);
    return {
      OPERATOR_TOKEN: vars.OPERATOR_TOKEN!,
      API_KEY_SECRET: vars.API_KEY_SECRET!,
      SECRETS_KEY: vars.SECRETS_KEY!,
    };
  }
}
