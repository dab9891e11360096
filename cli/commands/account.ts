// `claw login`, `claw logout`, `claw whoami`: the API base URL and key in the user's config dir
// (mode 0600). CLAW_API_URL / CLAW_API_KEY override the file.
import { defineCommand } from "citty";
import { ApiClient } from "../api/client.ts";
import { clearConfig, configFile, credentials, loadConfig, saveConfig, DEFAULT_API_URL } from "../config/store.ts";
import { usageError } from "../errors.ts";
import { jsonArg, runCommand } from "../ui.ts";

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
      if (!/^claw_sk_\S+$/.test(key)) throw usageError("an API key starts with claw_sk_; check what you pasted", "invalid_key");
      const apiUrl = (args["api-url"] ?? process.env.CLAW_API_URL ?? stored.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, "");
      try {
        new URL(apiUrl);
      } catch {
        throw usageError(`--api-url is not a URL: '${apiUrl}'`, "invalid_url");
      }
      let creator: any = null;
      if (!args["no-verify"]) creator = (await new ApiClient(apiUrl, key).request("/v1/me")).creator;
      const file = saveConfig({ ...stored, apiUrl, apiKey: key });
      ui.success(`Logged in to ${apiUrl}${creator ? ` as ${creator.name} (${creator.id})` : ""}; saved to ${file}`);
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

export const whoamiCommand = defineCommand({
  meta: { name: "whoami", description: "Show which creator your API key belongs to" },
  args: { ...jsonArg },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const c = credentials();
      const me = await new ApiClient(c.apiUrl, c.apiKey).request("/v1/me");
      ui.info(`${me.creator.name} (${me.creator.id}) on ${c.apiUrl}; key ${me.keyId} [${me.scopes.join(", ")}] from ${c.source.apiKey === "env" ? "CLAW_API_KEY" : configFile()}`);
      return { apiUrl: c.apiUrl, source: c.source, ...me };
    });
  },
});
