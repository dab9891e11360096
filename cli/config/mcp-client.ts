// The client configs `claw mcp` prints (docs/ARCHITECTURE.md §12): one MCP server entry — the
// platform's /mcp or one API's /t/<slug>/mcp — in the shapes the common MCP clients read. Pure.

export const MCP_CLIENTS = ["generic", "claude", "cursor", "vscode"] as const;
export type McpClient = (typeof MCP_CLIENTS)[number];

export function isMcpClient(value: string): value is McpClient {
  return (MCP_CLIENTS as readonly string[]).includes(value);
}

/** The server's URL: the platform's /mcp, or the API's own server when a slug is given. */
export function mcpServerUrl(apiUrl: string, slug?: string): string {
  const base = apiUrl.replace(/\/+$/, "");
  return slug ? `${base}/t/${slug}/mcp` : `${base}/mcp`;
}

/**
 * The config object for `client`. Claude Code and most clients read `mcpServers` with a typed
 * transport; Cursor's entry is the URL alone; VS Code nests servers under `servers`.
 */
export function mcpClientConfig(client: McpClient, name: string, url: string): Record<string, unknown> {
  switch (client) {
    case "cursor":
      return { mcpServers: { [name]: { url } } };
    case "vscode":
      return { servers: { [name]: { type: "http", url } } };
    case "generic":
    case "claude":
      return { mcpServers: { [name]: { type: "http", url } } };
  }
}
