// OpenAPI entries for the platform's discovery routes (docs/ARCHITECTURE.md §11), merged into the
// platform origin's /openapi.json next to the routes described in src/public/openapi.ts.
const str = { type: "string" };
const slug = { name: "slug", in: "path", required: true, schema: str };
const text = (type: string, description: string) => ({ "200": { description, content: { [type]: { schema: str } } } });

// The published receipt keys (src/receipts/document.ts).
const RECEIPT_KEY = {
  type: "object",
  properties: {
    kid: { type: "string" },
    address: { type: "string", pattern: "^0x[0-9a-f]{40}$" },
    status: { type: "string", enum: ["current", "previous"] },
  },
  required: ["kid", "address", "status"],
};
const RECEIPT_KEYS_FIELD = {
  type: "object",
  description: "Present when offers and receipts are signed: the signing keys and their document",
  properties: {
    format: { type: "string", const: "eip712" },
    keysUrl: { type: "string", format: "uri" },
    keys: { type: "array", items: RECEIPT_KEY },
  },
  required: ["format", "keysUrl", "keys"],
};
const RECEIPT_KEYS_DOCUMENT = {
  type: "object",
  properties: {
    version: { type: "integer", const: 1 },
    extension: { type: "string", const: "offer-receipt" },
    format: { type: "string", const: "eip712" },
    domains: { type: "object" },
    keys: { type: "array", items: RECEIPT_KEY },
  },
  required: ["version", "extension", "format", "domains", "keys"],
};

export const DISCOVERY_ROUTES = {
  "/.well-known/x402": {
    get: {
      summary: "Every paid resource of every path-mode API ({version: 1, resources: [urls], offerReceipt?})",
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
                  offerReceipt: RECEIPT_KEYS_FIELD,
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
  "/.well-known/402claw-receipt-keys.json": {
    get: {
      summary: "The keys that sign x402 offer-receipt offers and receipts (EIP-712; current, then previous)",
      responses: {
        "200": {
          description: "Receipt keys document",
          content: { "application/json": { schema: RECEIPT_KEYS_DOCUMENT } },
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
  "/t/{slug}/.well-known/402claw-receipt-keys.json": {
    get: {
      summary: "The receipt keys document again, on the API (also on an API's own host)",
      parameters: [slug],
      responses: { "200": { description: "Receipt keys document" } },
    },
  },
} as const;
