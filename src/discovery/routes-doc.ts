// OpenAPI entries for the platform's discovery routes (docs/ARCHITECTURE.md §11), merged into the
// platform origin's /openapi.json next to the routes described in src/public/openapi.ts.
const str = { type: "string" };
const slug = { name: "slug", in: "path", required: true, schema: str };
const text = (type: string, description: string) => ({ "200": { description, content: { [type]: { schema: str } } } });

export const DISCOVERY_ROUTES = {
  "/.well-known/x402": {
    get: {
      summary: "Every paid resource of every path-mode API ({version: 1, resources: [urls]})",
      responses: {
        "200": {
          description: "x402 well-known resource list",
          content: {
            "application/json": {
              schema: {
                type: "object",
                properties: {
                  version: { type: "integer", const: 1 },
                  resources: { type: "array", items: { type: "string", format: "uri" } },
                },
                required: ["version", "resources"],
                additionalProperties: false,
              },
            },
          },
        },
      },
    },
  },
  "/.well-known/mcp/server-card.json": {
    get: {
      summary: "The MCP server card: the platform's /mcp server, its tools and transport",
      responses: { "200": { description: "MCP server card (JSON)" } },
    },
  },
  "/llms.txt": {
    get: {
      summary: "What 402claw is, how to pay, the discovery documents, the top APIs",
      responses: text("text/plain", "llms.txt"),
    },
  },
  "/v1/apis/{slug}.md": {
    get: {
      summary:
        "One API's description in markdown, with copy-to-call snippets " +
        "(also: Accept: text/markdown on /v1/apis/{slug})",
      parameters: [slug],
      responses: { ...text("text/markdown", "Markdown"), "404": { description: "`api_not_found`" } },
    },
  },
  "/t/{slug}/openapi.json": {
    get: {
      summary: "One API's own OpenAPI 3.1 document",
      parameters: [slug],
      responses: { "200": { description: "OpenAPI 3.1" }, "404": { description: "`tenant_not_found`" } },
    },
  },
  "/t/{slug}/.well-known/x402": {
    get: {
      summary: "One API's paid resources",
      parameters: [slug],
      responses: { "200": { description: "x402 well-known resource list" } },
    },
  },
} as const;
