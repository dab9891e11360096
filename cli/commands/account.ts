// `claw login`, `claw logout`, `claw whoami`: the API base URL and key in the user's config dir
// (mode 0600). CLAW_API_URL / CLAW_API_KEY and a running `npm start` override the file
// (cli/config/store.ts credentials()); whoami says which one is in use.
import { defineCommand } from "citty";
import { ApiClient } from "../api/client.ts";
import { PlatformApi } from "../api/platform.ts";
import type { Me } from "../api/types.ts";
import {
  clearConfig,
  configFile,
  credentials,
  loadConfig,
  saveConfig,
  DEFAULT_API_URL,
  type Credentials,
} from "../config/store.ts";
import { CliError, EXIT, usageError } from "../core/errors.ts";
import { devStateFile } from "../local/dev-state.ts";
import { jsonArg, runCommand } from "../core/ui.ts";

/** The key was refused while logging in: "run `claw login` again" would be no help here. */
async function verifiedCreator(apiUrl: string, key: string): Promise<Me["creator"]> {
  try {
    return (await new PlatformApi(new ApiClient(apiUrl, key)).me()).creator;
  } catch (err) {
    if (err instanceof CliError && err.exitCode === EXIT.auth) {
      throw new CliError(
        `${apiUrl} did not accept this key (${err.code}): check that you copied all of it and that --api-url is ` +
          "the platform that issued it (`npm start` prints the local one)",
        EXIT.auth,
        err.code,
      );
    }
    throw err;
  }
}

export const loginCommand = defineCommand({
  meta: { name: "login", description: "Save your 402claw API URL and API key (checked against the API first)" },
  args: {
    key: { type: "string", description: "API key (claw_sk_…); default $CLAW_API_KEY" },
    "api-url": { type: "string", description: `Platform API base URL (default $CLAW_API_URL or ${DEFAULT_API_URL})` },
    "no-verify": { type: "boolean", description: "Save without checking the key", default: false },
    ...jsonArg,
  },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const stored = loadConfig();
      const key = args.key ?? process.env.CLAW_API_KEY;
      if (!key) throw usageError("pass --key claw_sk_… (from `npm start`, or `claw keys create`)", "missing_key");
      if (!/^claw_sk_\S+$/.test(key))
        throw usageError("an API key starts with claw_sk_; check what you pasted", "invalid_key");
      const apiUrl = (args["api-url"] ?? process.env.CLAW_API_URL ?? stored.apiUrl ?? DEFAULT_API_URL).replace(
        /\/+$/,
        "",
      );
      try {
        new URL(apiUrl);
      } catch {
        throw usageError(`--api-url is not a URL: '${apiUrl}'`, "invalid_url");
      }
      const creator = args["no-verify"] ? null : await verifiedCreator(apiUrl, key);
      const file = saveConfig({ ...stored, apiUrl, apiKey: key });
      ui.success(`Logged in to ${apiUrl}${creator ? ` as ${creator.name} (${creator.id})` : ""}; saved to ${file}`);
      if (credentials().source.apiUrl === "local") {
        ui.info(
          "`npm start` runs in this checkout, so commands here use it until it stops (CLAW_LOCAL=0 uses this login)",
        );
      }
      return { apiUrl, creator, configFile: file };
    });
  },
});

export const logoutCommand = defineCommand({
  meta: { name: "logout", description: "Forget the saved API key" },
  args: { ...jsonArg },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const stored = loadConfig();
      const had = Boolean(stored.apiKey);
      if (stored.apiUrl) saveConfig({ apiUrl: stored.apiUrl });
      else clearConfig();
      ui.success(had ? "Logged out (API key removed)" : "No saved API key");
      return { loggedOut: had, configFile: configFile() };
    });
  },
});

/** Pure: where the key in use came from, in words. */
export function keyOrigin(c: Credentials, files: { config: string; dev: string }): string {
  switch (c.source.apiKey) {
    case "env":
      return "$CLAW_API_KEY";
    case "local":
      return `the local stack \`npm start\` runs (${files.dev}; your saved login is untouched, CLAW_LOCAL=0 uses it)`;
    case "config":
      return files.config;
    default:
      return "nowhere";
  }
}

export const whoamiCommand = defineCommand({
  meta: { name: "whoami", description: "Show which creator your key belongs to, and where the key and URL come from" },
  args: { ...jsonArg },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const c = credentials();
      const me = await new PlatformApi(new ApiClient(c.apiUrl, c.apiKey)).me();
      const origin = keyOrigin(c, { config: configFile(), dev: devStateFile() });
      const key = `key ${me.keyId} [${me.scopes.join(", ")}]`;
      ui.info(`${me.creator.name} (${me.creator.id}) on ${c.apiUrl}; ${key} from ${origin}`);
      return { apiUrl: c.apiUrl, source: c.source, keyFrom: origin, ...me };
    });
  },
});
