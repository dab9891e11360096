// Where `claw login` keeps the API base URL and key: <config dir>/claw/config.json, mode 0600
// (directory 0700). Config dir: $CLAW_CONFIG_DIR (tests), else $XDG_CONFIG_HOME, else
// %APPDATA% on Windows, ~/Library/Application Support on macOS, ~/.config elsewhere.
// CLAW_API_URL and CLAW_API_KEY override the file. Secrets (--secret) are never stored here.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { CliError, EXIT } from "../errors.ts";

export const DEFAULT_API_URL = "http://127.0.0.1:8787";

export interface StoredConfig {
  apiUrl?: string;
  apiKey?: string;
}

export function configDir(): string {
  if (process.env.CLAW_CONFIG_DIR) return process.env.CLAW_CONFIG_DIR;
  const base =
    process.env.XDG_CONFIG_HOME ||
    (process.platform === "win32" ? process.env.APPDATA || join(homedir(), "AppData", "Roaming") : process.platform === "darwin" ? join(homedir(), "Library", "Application Support") : join(homedir(), ".config"));
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
    throw new CliError(`${file} is not valid JSON: fix it or run \`claw login\` again`, EXIT.usage, "invalid_config_file");
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

export interface Credentials {
  apiUrl: string;
  apiKey: string | null;
  /** Where each value came from, for `claw whoami`. */
  source: { apiUrl: "env" | "config" | "default"; apiKey: "env" | "config" | "none" };
}

export function credentials(): Credentials {
  const stored = loadConfig();
  const envUrl = process.env.CLAW_API_URL;
  const envKey = process.env.CLAW_API_KEY;
  const apiUrl = (envUrl || stored.apiUrl || DEFAULT_API_URL).replace(/\/+$/, "");
  const apiKey = envKey || stored.apiKey || null;
  return {
    apiUrl,
    apiKey,
    source: { apiUrl: envUrl ? "env" : stored.apiUrl ? "config" : "default", apiKey: envKey ? "env" : stored.apiKey ? "config" : "none" },
  };
}
