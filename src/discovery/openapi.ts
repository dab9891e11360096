// OpenAPI 3.1 rendering of API descriptions (docs/ARCHITECTURE.md §11). One builder serves the
// per-API document (`/t/:slug/openapi.json`, `/openapi.json` on a tenant host) and the tenant half
// of the platform origin's `/openapi.json`, which must itself carry every paid operation of every
// path-mode tenant because crawlers read only `{origin}/openapi.json` and follow no links.
//
// Paid operations carry `x-payment-info: {price: {mode: "fixed", currency: "USD", amount},
// with each operation's own price (free operations of a paid API carry none and no 402),
// protocols: [{x402: {}}]}` and a `402` response; every operation says `security: []` (no API
// auth: payment is not an API key, and crawlers read an apiKey scheme as "apiKey+paid"). Schemas are inlined
// per operation (only `#/components` references to shared x402 shapes), so a crawler that resolves
// only local references reads everything.
import type { ApiDescription, Operation, Parameter } from "./description-types.ts";
import { SHARED_DATASET_PARAMETERS } from "./dataset-operations.ts";

type Doc = Record<string, unknown>;

export const X402_COMPONENTS = {
  schemas: {
    X402PaymentRequired: {
      type: "object",
      description: "x402 v2 challenge; the same object is base64-encoded in the PAYMENT-REQUIRED header.",
      properties: {
        x402Version: { type: "integer", const: 2 },
        error: { type: "string" },
        resource: {
          type: "object",
          properties: { url: { type: "string" }, description: { type: "string" }, mimeType: { type: "string" } },
        },
        accepts: { type: "array", items: { $ref: "#/components/schemas/X402PaymentRequirements" } },
        extensions: { type: "object", description: "`bazaar`: the discovery listing of this operation." },
        code: { type: "string" },
        requestId: { type: "string" },
      },
      required: ["x402Version", "accepts"],
    },
    X402PaymentRequirements: {
      type: "object",
      properties: {
        scheme: { type: "string", const: "exact" },
        network: { type: "string", examples: ["eip155:8453"] },
        asset: { type: "string" },
        amount: { type: "string", pattern: "^[0-9]+$", description: "Atomic units of the asset." },
        payTo: { type: "string" },
        maxTimeoutSeconds: { type: "integer" },
        extra: { type: "object" },
      },
      required: ["scheme", "network", "asset", "amount", "payTo", "maxTimeoutSeconds"],
    },
  },
  parameters: Object.fromEntries(
    SHARED_DATASET_PARAMETERS.map((p) => [
      p.shared!,
      { name: p.name, in: p.in, required: false, description: p.description, schema: p.schema },
    ]),
  ),
  responses: {
    X402PaymentRequired: {
      description:
        "Payment required (x402): the price is in x-payment-info; pay the challenge and repeat the call " +
        "with PAYMENT-SIGNATURE.",
      headers: { "PAYMENT-REQUIRED": { description: "The challenge, base64 JSON.", schema: { type: "string" } } },
      content: { "application/json": { schema: { $ref: "#/components/schemas/X402PaymentRequired" } } },
    },
    Error: { description: "Bad input: {error: {code, message}, requestId}." },
  },
} as const;

export function operationId(slug: string, op: Pick<Operation, "method" | "path">): string {
  const path = op.path
    .replace(/[{}]/g, "")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .replace(/^_|_$/g, "");
  return `${slug.replace(/-/g, "_")}__${op.method.toLowerCase()}${path ? `_${path}` : ""}`;
}

function parameter(p: Parameter, op: Operation): Doc {
  const example = p.in === "path" ? op.pathExample[p.name] : op.inputExample[p.name];
  if (p.shared && example === undefined) return { $ref: `#/components/parameters/${p.shared}` };
  return {
    name: p.name,
    in: p.in,
    required: p.required,
    description: p.description,
    schema: p.schema,
    ...(example !== undefined ? { example } : {}),
  };
}

function json(schema: unknown, example: unknown): Doc {
  return { "application/json": { schema, ...(example !== undefined ? { example } : {}) } };
}

function operationDoc(d: ApiDescription, op: Operation): Doc {
  const responses: Doc = { "200": { description: "The result.", content: json(op.output.schema, op.output.example) } };
  const doc: Doc = {
    operationId: operationId(d.slug, op),
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [d.slug],
    parameters: op.parameters.map((p) => parameter(p, op)),
    ...(op.body ? { requestBody: { required: true, content: json(op.body.schema, op.body.example) } } : {}),
    responses,
    security: [],
  };
  if (d.payment && op.price) {
    responses["402"] = { $ref: "#/components/responses/X402PaymentRequired" };
    doc["x-payment-info"] = {
      // A usage-priced (upto) operation costs between 0 and its ceiling, decided after the call.
      price:
        op.price.mode === "upto"
          ? { mode: "dynamic", currency: "USD", min: "0", max: op.price.amountUsd, scheme: "upto" }
          : { mode: "fixed", currency: "USD", amount: op.price.amountUsd },
      protocols: [{ x402: {} }],
    };
  }
  responses["4XX"] = { $ref: "#/components/responses/Error" };
  return doc;
}

/** `paths` entries for every operation of `d`, under `prefix` (`/t/<slug>` or ""). */
export function pathsFor(d: ApiDescription, prefix: string): Record<string, Doc> {
  const paths: Record<string, Doc> = {};
  for (const op of d.operations) {
    // `/t/<slug>` and `/t/<slug>/` both reach the API root; crawlers strip a trailing slash
    // before matching, so the root is keyed without it.
    const key = prefix && op.path === "/" ? prefix : `${prefix}${op.path}`;
    (paths[key] ??= {})[op.method.toLowerCase()] = operationDoc(d, op);
  }
  return paths;
}

/** The per-API document, served at `serverUrl` (`{origin}/t/<slug>` or `https://<host>`). */
export function apiOpenApi(d: ApiDescription, serverUrl: string): Doc {
  return {
    openapi: "3.1.0",
    info: {
      title: d.title,
      version: String(d.version),
      description: d.description,
      ...(d.contact ? { contact: { name: d.contact.name } } : {}),
      "x-guidance": guidance(d),
    },
    servers: [{ url: serverUrl }],
    tags: [{ name: d.slug, description: d.description }],
    paths: pathsFor(d, ""),
    components: X402_COMPONENTS,
  };
}

export function guidance(d: ApiDescription): string {
  if (!d.payment) return `${d.slug} is free: call it directly.`;
  return (
    `${priceSentence(d)} (x402 "exact" on ${d.payment.network}, paid to ${d.payment.payTo}). ` +
    "Call once without payment to get the 402 challenge, sign it, and repeat the call with PAYMENT-SIGNATURE."
  );
}

/** Whether some operation's price is not simply the default (a `prices` pattern, or free). */
export function pricedPerOperation(d: ApiDescription): boolean {
  return d.payment !== null && d.operations.some((op) => op.price?.pattern != null || !op.price);
}

/** "Each call costs $0.001" or, with prices per operation, each operation's price. */
export function priceSentence(d: ApiDescription): string {
  if (!pricedPerOperation(d)) return `Each call costs ${d.payment?.display ?? "nothing"}`;
  const list = d.operations.map((op) => `${op.method} ${op.path} ${op.price ? op.price.display : "free"}`);
  const rest = d.payment && d.payment.amountAtomic !== "0" ? `; any other call ${d.payment.display}` : "";
  return `Prices per operation: ${list.join(", ")}${rest}`;
}
