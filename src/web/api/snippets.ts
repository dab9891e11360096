// Copy-to-call snippets of an API page: curl, the official @x402/fetch client, `claw call`, and an
// MCP client config for the API's own MCP server (docs/ARCHITECTURE.md §12).
// Plain strings: the page renders them as escaped text inside <pre>.
import type { ApiDetail } from "../../../objects/leaderboard/snapshot-types.ts";

export interface Snippet {
  id: string;
  label: string;
  code: string;
}

/** A first URL worth calling: the records of a dataset, the root of anything else. */
export function exampleUrl(api: Pick<ApiDetail, "path" | "resourceType">, origin: string): string {
  return `${origin}${api.path}${api.resourceType === "dataset" ? "v1/records?limit=3" : ""}`;
}

export function snippets(api: Pick<ApiDetail, "path" | "resourceType" | "paid" | "price">, origin: string): Snippet[] {
  const url = exampleUrl(api, origin);
  const quoted = `'${url.replaceAll("'", "'\\''")}'`;
  const curl: Snippet = api.paid
    ? {
        id: "curl",
        label: "curl",
        code:
          "# answers 402 with PAYMENT-REQUIRED (base64 JSON): sign it with an x402 client, then retry\n" +
          `curl -i ${quoted}`,
      }
    : { id: "curl", label: "curl", code: `curl ${quoted}` };
  const fetchCode = api.paid
    ? [
        `import { wrapFetchWithPayment } from "@x402/fetch";`,
        `import { x402Client } from "@x402/core/client";`,
        `import { ExactEvmScheme } from "@x402/evm/exact/client";`,
        `import { privateKeyToAccount } from "viem/accounts";`,
        ``,
        `const client = new x402Client();`,
        `client.register("eip155:*", new ExactEvmScheme(privateKeyToAccount(process.env.PAYER_KEY)));`,
        `const pay = wrapFetchWithPayment(fetch, client); // pays ${api.price.usd} per call`,
        `const res = await pay(${JSON.stringify(url)});`,
        `console.log(res.status, await res.json());`,
      ].join("\n")
    : `const res = await fetch(${JSON.stringify(url)});\nconsole.log(await res.json());`;
  return [
    curl,
    { id: "fetch", label: api.paid ? "@x402/fetch" : "fetch", code: fetchCode },
    {
      id: "claw",
      label: "claw call",
      code: `claw call ${quoted}${api.paid ? ` --max-price ${api.price.usd.replace("$", "")}` : ""}`,
    },
    { id: "mcp", label: "MCP", code: mcpConfig(api, origin) },
  ];
}

/** A client config (the `mcpServers` shape most MCP clients read) for the API's `/mcp` server. */
export function mcpConfig(api: Pick<ApiDetail, "path" | "paid" | "price">, origin: string): string {
  const name = api.path.replace(/^\/t\//, "").replace(/\/$/, "") || "402claw";
  const config = { mcpServers: { [name]: { type: "http", url: `${origin}${api.path}mcp` } } };
  const note = api.paid
    ? `// paid tools answer an x402 PaymentRequired result (${api.price.usd} per call); ` +
      'retry with _meta["x402/payment"]\n'
    : "";
  return note + JSON.stringify(config, null, 2);
}

export interface Operation {
  method: string;
  path: string;
  what: string;
  response: string;
}

/** The operations every API of a resource type has (the platform's own dataset engine, or "any path"). */
export function operationsOf(resourceType: string): Operation[] {
  if (resourceType === "dataset") {
    return [
      {
        method: "GET",
        path: "v1/records",
        what: "q (text search), field=value filters, sort=field,-other, fields=a,b, limit 1-1000, offset",
        response: `{"items": [{…}], "total": 120, "limit": 3, "offset": 0, "nextOffset": 3}`,
      },
      { method: "GET", path: "v1/records/:id", what: "one record by its id field", response: `{…the record…}` },
      {
        method: "GET",
        path: "v1/schema",
        what: "fields, types, id field, row count",
        response: `{"fields": [{"name": "…", "type": "string"}], "idField": "id", "rows": 120}`,
      },
    ];
  }
  return [
    {
      method: "ANY",
      path: "*",
      what: resourceType === "proxy" ? "forwarded to the creator's upstream API" : "served by the creator's function",
      response: "whatever the API returns",
    },
  ];
}
