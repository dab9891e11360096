// The shape of one API's description (docs/ARCHITECTURE.md §11): operations with their parameters
// and schemas, and the payment terms. Types only; built by describe.ts, rendered by the documents.
import type { TenantConfig } from "../config/tenant-config.ts";
import type { JsonSchema } from "./json-schema.ts";

export interface Parameter {
  name: string;
  in: "query" | "path";
  required: boolean;
  description: string;
  schema: Record<string, unknown>;
  /** Name under components.parameters when the parameter is the same for every API (smaller documents). */
  shared?: string;
}

export interface Operation {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Template relative to the API root, `{name}` for path parameters. */
  path: string;
  summary: string;
  description?: string;
  parameters: Parameter[];
  /** JSON request body, for body methods. */
  body?: { schema: JsonSchema; example?: unknown };
  output: { schema: JsonSchema; example?: unknown };
  /** Example query parameters (or path parameters) that really work. */
  inputExample: Record<string, unknown>;
  pathExample: Record<string, string>;
  /** True when the creator (or the platform, for datasets) described the input. */
  declared: boolean;
  /** This operation's price (its `prices` pattern, else the default); absent when it is free. */
  price?: Price;
}

/** One price, in every form a document needs. */
export interface Price {
  /** USD as a plain decimal string ("0.001"), for x-payment-info. */
  amountUsd: string;
  amountAtomic: string;
  display: string;
  /** The `prices` pattern that set it, or null for the tenant's default price. */
  pattern: string | null;
  /** `upto`: usage-priced, the amounts are the ceiling (x402 `upto` scheme); else a fixed price. */
  mode: "exact" | "upto";
}

/** The payment terms; `amount*`/`display` are the default price (operations carry their own). */
export interface Payment {
  scheme: "exact";
  network: string;
  asset: string;
  assetName: string;
  decimals: number;
  payTo: string;
  /** Price in USD as a plain decimal string ("0.001"), for x-payment-info. */
  amountUsd: string;
  amountAtomic: string;
  display: string;
}

export interface ApiDescription {
  slug: string;
  version: number;
  kind: TenantConfig["resourceType"];
  title: string;
  description: string;
  directory: string;
  hosts: string[];
  /** null for a free API (no operation costs anything: no 402, not an x402 resource). */
  payment: Payment | null;
  contact?: { name: string };
  operations: Operation[];
}
