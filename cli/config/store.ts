// Where `claw login` keeps the API base URL and key: <config dir>/claw/config.json, mode 0600
// (directory 0700). Config dir: $CLAW_CONFIG_DIR (tests), else $XDG_CONFIG_HOME, else
// %APPDATA% on Windows, ~/Library/Application Support on macOS, ~/.config elsewhere.
// CLAW_API_URL and CLAW_API_KEY override the file, and so does a running `npm start` in this
// checkout (see credentials()). Secrets (--secret) are never stored here.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { CliError, EXIT } from "../core/errors.ts";
import { runningStack } from "../local/dev-state.ts";

export const DEFAULT_API_URL = "http://127.0.0.1:8787";

export interface StoredConfig {
  apiUrl?: string;
  apiKey?: string;
}

export function configDir(): string {
  if (process.env.CLAW_CONFIG_DIR) return process.env.CLAW_CONFIG_DIR;
  const base =
    process.env.XDG_CONFIG_HOME ||
    (process.platform === "win32"
      ? process.env.APPDATA || join(homedir(), "AppData", "Roaming")
      : process.platform === "darwin"
        ? join(homedir(), "Library", "Application Support")
        : join(homedir(), ".config"));
  return join(base, "claw");
}

export function configFile(): string {
  return join(configDir(), "config.json");
}

export function loadConfig(): StoredConfig {
  const file = configFile();
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, "utf8")) as StoredConfig;
  } catch {
    throw new CliError(
      `${file} is not valid JSON: fix it or run \`claw login\` again`,
      EXIT.usage,
      "invalid_config_file",
    );
  }
}

export function saveConfig(config: StoredConfig): string {
  const dir = configDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = configFile();
  writeFileSync(file, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  chmodSync(file, 0o600); // writeFileSync's mode only applies to new files
  return file;
}

export function clearConfig(): boolean {
  const file = configFile();
  if (!existsSync(file)) return false;
  rmSync(file);
  return true;
}

export type UrlSource = "env" | "local" | "config" | "default";
export type KeySource = "env" | "local" | "config" | "none";

export interface Credentials {
  apiUrl: string;
  apiKey: string | null;
  /** Where each value came from, for `claw whoami`. */
  source: { apiUrl: UrlSource; apiKey: KeySource };
}

/**
 * Precedence: CLAW_API_URL / CLAW_API_KEY, then the stack `npm start` runs in this checkout
 * (.claw/dev.json, while its process lives; CLAW_LOCAL=0 skips it), then the saved login, then
 * the default URL. The local override never writes the config file, so a saved production login
 * is untouched and comes back when the stack stops.
 */
export function credentials(env: NodeJS.ProcessEnv = process.env): Credentials {
  const stored = loadConfig();
  const envUrl = env.CLAW_API_URL;
  const envKey = env.CLAW_API_KEY;
  const local = !envUrl && env.CLAW_LOCAL !== "0" ? runningStack() : null;
  const localUrl = local?.apiUrl ?? null;
  const urlSource: UrlSource = envUrl ? "env" : localUrl ? "local" : stored.apiUrl ? "config" : "default";
  const apiUrl = (envUrl || localUrl || stored.apiUrl || DEFAULT_API_URL).replace(/\/+$/, "");
  const localKey = urlSource === "local" ? (local?.key ?? null) : null;
  const keySource: KeySource = envKey ? "env" : localKey ? "local" : stored.apiKey ? "config" : "none";
  const apiKey = envKey || localKey || stored.apiKey || null;
  return { apiUrl, apiKey, source: { apiUrl: urlSource, apiKey: keySource } };
}
