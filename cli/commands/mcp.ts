// `claw mcp [name]`: prints a ready MCP client config for the platform's MCP server (search, details
// and calls of every API) or for one API's own server (one tool per operation). The JSON goes to
// stdout so it can be piped into a client's config file; paid tools are paid with x402 over MCP.
import { defineCommand } from "citty";
import { credentials } from "../config/store.ts";
import { isMcpClient, MCP_CLIENTS, mcpClientConfig, mcpServerUrl } from "../config/mcp-client.ts";
import { checkSlug } from "../deploy/flags.ts";
import { CliError, EXIT } from "../core/errors.ts";
import { jsonArg, runCommand } from "../core/ui.ts";

export const mcpCommand = defineCommand({
  meta: { name: "mcp", description: "Print an MCP client config for the platform or one API" },
  args: {
    name: { type: "positional", required: false, description: "An API's name (omit for the platform server)" },
    client: { type: "string", description: `Config shape: ${MCP_CLIENTS.join(" | ")}`, default: "generic" },
    ...jsonArg,
  },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const client = String(args.client);
      if (!isMcpClient(client)) {
        throw new CliError(`--client must be one of ${MCP_CLIENTS.join(", ")}`, EXIT.usage, "invalid_flag");
      }
      const slug = args.name ? checkSlug(String(args.name)) : undefined;
      const url = mcpServerUrl(credentials().apiUrl, slug);
      const config = mcpClientConfig(client, slug ?? "402claw", url);
      ui.print(JSON.stringify(config, null, 2));
      return config;
    });
  },
});
