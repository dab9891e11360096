// Markdown renderings for agents (docs/ARCHITECTURE.md §11): the twin of each API's description
// (`/v1/apis/:slug.md`) with copy-to-call snippets (curl, @x402/fetch, `claw call`), and the
// platform's `/llms.txt` (what 402claw is, how to pay, the discovery documents, the top APIs).
// Pure: the handler supplies the description, the URLs and the top list.
import type { ApiDescription, Operation } from "./description-types.ts";
import { priceSentence, pricedPerOperation } from "./openapi.ts";
import { concretePath } from "./platform-docs.ts";

function exampleUrl(op: Operation, baseUrl: string): string {
  const query = new URLSearchParams(Object.entries(op.inputExample).map(([k, v]) => [k, String(v)])).toString();
  return `${baseUrl}${concretePath(op)}${query ? `?${query}` : ""}`;
}

function fence(lang: string, text: string): string {
  return `\`\`\`${lang}\n${text}\n\`\`\``;
}

function snippets(d: ApiDescription, op: Operation, baseUrl: string): string {
  const url = exampleUrl(op, baseUrl);
  const body = op.body ? JSON.stringify(op.body.example ?? {}) : null;
  const curlBody = body
    ? ` -X ${op.method} -H 'content-type: application/json' -d '${body.replace(/'/g, "'\\''")}'`
    : op.method !== "GET"
      ? ` -X ${op.method}`
      : "";
  const fetchInit = body
    ? `, { method: "${op.method}", headers: { "content-type": "application/json" }, body: JSON.stringify(${body}) }`
    : op.method !== "GET"
      ? `, { method: "${op.method}" }`
      : "";
  const paid = d.payment !== null && op.price !== undefined;
  const out = [`curl -i '${url}'${curlBody}${paid ? "   # → 402 with the PAYMENT-REQUIRED challenge" : ""}`];
  const parts = [fence("sh", out.join("\n"))];
  if (paid) {
    parts.push(
      fence(
        "ts",
        [
          'import { wrapFetchWithPayment, x402Client } from "@x402/fetch";',
          'import { registerExactEvmScheme } from "@x402/evm/exact/client";',
          'import { privateKeyToAccount } from "viem/accounts";',
          "",
          "const client = new x402Client();",
          "registerExactEvmScheme(client, { signer: privateKeyToAccount(process.env.PAYER_KEY as `0x${string}`) });",
          "const pay = wrapFetchWithPayment(fetch, client);",
          `const res = await pay("${url}"${fetchInit});`,
          "console.log(await res.json());",
        ].join("\n"),
      ),
    );
    parts.push(fence("sh", `claw call '${url}' --max-price ${op.price!.amountUsd}`));
  }
  return parts.join("\n\n");
}

function parameterTable(op: Operation): string {
  if (op.parameters.length === 0) return "";
  const rows = op.parameters.map(
    (p) =>
      `| \`${p.name}\` | ${p.in} | ${JSON.stringify(p.schema.type ?? "any")} | ${p.required ? "yes" : "no"} ` +
      `| ${p.description.replace(/\|/g, "\\|")} |`,
  );
  return ["| parameter | in | type | required | description |", "| --- | --- | --- | --- | --- |", ...rows].join("\n");
}

function operationSection(d: ApiDescription, op: Operation, baseUrl: string): string {
  const price = op.price ? `${op.price.display} per call (USD ${op.price.amountUsd})` : "free";
  const parts = [`### \`${op.method} ${op.path}\``, op.summary, `**Price:** ${price}`];
  if (op.description) parts.push(op.description);
  const table = parameterTable(op);
  if (table) parts.push(table);
  if (op.body) parts.push(`Request body (JSON Schema):\n\n${fence("json", JSON.stringify(op.body.schema, null, 2))}`);
  parts.push(`Response (JSON Schema):\n\n${fence("json", JSON.stringify(op.output.schema, null, 2))}`);
  if (op.output.example !== undefined)
    parts.push(`Example response:\n\n${fence("json", JSON.stringify(op.output.example, null, 2))}`);
  parts.push(snippets(d, op, baseUrl));
  return parts.join("\n\n");
}

export function apiMarkdown(d: ApiDescription, baseUrl: string, openapiUrl: string): string {
  const amount =
    d.payment && !pricedPerOperation(d) ? `${d.payment.display} per call (USD ${d.payment.amountUsd}),` : "";
  const price = d.payment
    ? `**Price:** ${amount || `${priceSentence(d)};`} x402 \`exact\` in ` +
      `${d.payment.assetName} (\`${d.payment.asset}\`) on \`${d.payment.network}\`, paid to \`${d.payment.payTo}\`.`
    : "**Price:** free.";
  const head = [
    `# ${d.title}`,
    d.description,
    `${price}  \n**Kind:** ${d.kind} · **Directory:** ${d.directory} · **Version:** ${d.version}` +
      (d.contact ? ` · **Creator:** ${d.contact.name}` : ""),
    `**Base URL:** ${baseUrl}  \n**OpenAPI:** ${openapiUrl}`,
    d.payment
      ? "Call without payment to receive `402` with a `PAYMENT-REQUIRED` challenge; sign it and repeat the call " +
        "with `PAYMENT-SIGNATURE`. A paid call that fails is never charged."
      : "",
    "## Operations",
  ].filter(Boolean);
  return `${[...head, ...d.operations.map((op) => operationSection(d, op, baseUrl))].join("\n\n")}\n`;
}

export interface TopApi {
  slug: string;
  description: string;
  priceUsd: string;
}

export function llmsTxt(origin: string, top: readonly TopApi[]): string {
  const lines = [
    "# 402claw",
    "",
    "> Pay-per-call APIs for AI agents. Every API on 402claw is a dataset, a function or a proxy that answers " +
      "HTTP; a paid one answers `402 Payment Required` with an x402 v2 challenge until the call carries a payment " +
      "(USDC, scheme `exact`). No accounts, no API keys for callers.",
    "",
    "## How to pay",
    "",
    "1. Call the API. A paid API answers `402` with `PAYMENT-REQUIRED` (base64 JSON: `accepts` = scheme, network, " +
      "asset, amount, payTo; `extensions.bazaar` = the operation's input and output schemas).",
    "2. Sign an EIP-3009 authorization for that amount (`@x402/fetch` does it: " +
      "`wrapFetchWithPayment(fetch, client)`), and repeat the call with `PAYMENT-SIGNATURE`.",
    "3. The response carries `PAYMENT-RESPONSE` (the settlement). Failed calls are not charged; a repeated " +
      "payment replays the stored response.",
    "",
    "## Discovery documents",
    "",
    `- [OpenAPI 3.1 of the platform and every paid API](${origin}/openapi.json): ` +
      "paid operations carry `x-payment-info` and a `402` response",
    `- [x402 well-known resource list](${origin}/.well-known/x402)`,
    `- [Bazaar list of paid APIs](${origin}/discovery/resources)`,
    `- [Leaderboard](${origin}/v1/leaderboard)`,
    `- Per API: \`${origin}/t/<slug>/openapi.json\` (OpenAPI), \`${origin}/v1/apis/<slug>.md\` ` +
      `(this kind of page for one API), \`${origin}/v1/apis/<slug>\` (metrics)`,
    "",
    "## MCP",
    "",
    `- [Platform MCP server](${origin}/mcp) (Streamable HTTP, free): tools \`search_apis\`, \`get_api\`, ` +
      "`call_api`; its card at " +
      `${origin}/.well-known/mcp/server-card.json`,
    `- Per API: \`${origin}/t/<slug>/mcp\`, one tool per operation. Paid tools use x402 over MCP: the ` +
      'payment-required tool result carries the challenge; retry with `_meta["x402/payment"]`.',
    "",
    "## Top APIs",
    "",
    ...(top.length
      ? top.map(
          (a) =>
            `- [${a.slug}](${origin}/v1/apis/${a.slug}.md): ${a.description || "(no description)"} ` +
            `(${a.priceUsd} per call)`,
        )
      : ["- (none ranked yet)"]),
    "",
  ];
  return lines.join("\n");
}
