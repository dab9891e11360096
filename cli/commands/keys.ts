// `claw keys create|list|revoke`: your API keys (a new key is shown once).
import { defineCommand } from "citty";
import { PlatformApi } from "../api/platform.ts";
import { usageError } from "../core/errors.ts";
import { jsonArg, repeated, runCommand, table } from "../core/ui.ts";

const SCOPES = ["tenants:read", "tenants:write", "keys:manage"];

export const keysCommand = defineCommand({
  meta: { name: "keys", description: "Create, list and revoke your API keys" },
  subCommands: {
    create: defineCommand({
      meta: { name: "create", description: "Create an API key (shown once)" },
      args: {
        name: { type: "string", description: "A label, e.g. ci" },
        scope: { type: "string", description: `Scope (repeatable): ${SCOPES.join(", ")}; default all` },
        ...jsonArg,
      },
      async run({ args, rawArgs }) {
        await runCommand(args.json, async (ui) => {
          const scopes = repeated(rawArgs, "scope");
          for (const s of scopes)
            if (!SCOPES.includes(s))
              throw usageError(`--scope must be one of ${SCOPES.join(", ")}, got '${s}'`, "invalid_scope");
          const body = await PlatformApi.fromEnv().createKey({
            ...(args.name ? { name: args.name } : {}),
            ...(scopes.length ? { scopes } : {}),
          });
          ui.success(`Created key ${body.apiKey.id} [${body.apiKey.scopes.join(", ")}]; it is shown only once:`);
          ui.print(body.apiKey.key);
          return body;
        });
      },
    }),
    list: defineCommand({
      meta: { name: "list", description: "List your API keys (prefixes only)" },
      args: { ...jsonArg },
      async run({ args }) {
        await runCommand(args.json, async (ui) => {
          const body = await PlatformApi.fromEnv().listKeys();
          ui.print(
            table([
              ["ID", "PREFIX", "NAME", "SCOPES", "STATUS"],
              ...body.keys.map((k) => [
                k.id,
                k.prefix,
                k.name || "–",
                k.scopes.join(","),
                k.revokedAt ? "revoked" : k.current ? "active (this one)" : "active",
              ]),
            ]),
          );
          return body;
        });
      },
    }),
    revoke: defineCommand({
      meta: { name: "revoke", description: "Revoke an API key" },
      args: { id: { type: "positional", required: true, description: "Key id (key_…)" }, ...jsonArg },
      async run({ args }) {
        await runCommand(args.json, async (ui) => {
          const body = await PlatformApi.fromEnv().revokeKey(args.id);
          ui.success(`Revoked ${args.id}`);
          return body;
        });
      },
    }),
  },
});
