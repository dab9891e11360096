// `claw mcp [name]`: the client configs it prints (pure shapes) and the real binary's output —
// JSON on stdout that parses, the platform server without a name, an API's server with one, and
// usage errors (exit 2) for a bad client or name.
import { describe, expect, it } from "vitest";
import { MCP_CLIENTS, mcpClientConfig, mcpServerUrl } from "../../cli/config/mcp-client.ts";
import { claw } from "./support/claw-cli.ts";

const API = "https://api.402claw.test";

describe("claw mcp", () => {
  it("builds each client's shape around the right server URL", () => {
    expect(mcpServerUrl(`${API}/`)).toBe(`${API}/mcp`);
    expect(mcpServerUrl(API, "world-cities")).toBe(`${API}/t/world-cities/mcp`);
    const url = mcpServerUrl(API, "fx");
    expect(mcpClientConfig("generic", "fx", url)).toEqual({ mcpServers: { fx: { type: "http", url } } });
    expect(mcpClientConfig("claude", "fx", url)).toEqual({ mcpServers: { fx: { type: "http", url } } });
    expect(mcpClientConfig("cursor", "fx", url)).toEqual({ mcpServers: { fx: { url } } });
    expect(mcpClientConfig("vscode", "fx", url)).toEqual({ servers: { fx: { type: "http", url } } });
    expect(MCP_CLIENTS).toEqual(["generic", "claude", "cursor", "vscode"]);
  });

  it("prints the platform server's config as JSON on stdout", async () => {
    const run = await claw(["mcp"], { CLAW_API_URL: API });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ mcpServers: { "402claw": { type: "http", url: `${API}/mcp` } } });
  });

  it("prints one API's server for a client, and --json gives one line", async () => {
    const run = await claw(["mcp", "world-cities", "--client", "vscode"], { CLAW_API_URL: API });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      servers: { "world-cities": { type: "http", url: `${API}/t/world-cities/mcp` } },
    });
    const json = await claw(["mcp", "world-cities", "--json"], { CLAW_API_URL: API });
    expect(json.json).toEqual({ mcpServers: { "world-cities": { type: "http", url: `${API}/t/world-cities/mcp` } } });
  });

  it("refuses an unknown client, a bad name and a mistyped flag with exit 2", async () => {
    const client = await claw(["mcp", "--client", "emacs"], { CLAW_API_URL: API });
    expect(client.code).toBe(2);
    expect(client.stderr).toContain("--client must be one of generic, claude, cursor, vscode");
    const name = await claw(["mcp", "Not A Slug"], { CLAW_API_URL: API });
    expect(name.code).toBe(2);
    const flag = await claw(["mcp", "--clinet", "vscode"], { CLAW_API_URL: API });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("--client");
  });
});
