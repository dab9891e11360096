// The `bazaar` extension of a 402 (docs/ARCHITECTURE.md §11): facilitators catalog a resource from
// `extensions.bazaar = {info: {input, output}, schema}` in its PaymentRequired. Built with
// @x402/extensions' own declare + enrich functions (so the shape is theirs, not a copy), for the
// exact operation the caller asked for: its method, its query parameters or body schema, its
// output schema and a real example, and for a templated path its routeTemplate + pathParams.
import { bazaarResourceServerExtension, declareDiscoveryExtension } from "@x402/extensions/bazaar";
import type { TenantConfig } from "../config/tenant-config.ts";
import { describeTenant, findOperation } from "./describe.ts";
import type { ApiDescription, Operation } from "./description-types.ts";
import { concretePath } from "./platform-docs.ts";
import type { JsonSchema } from "./json-schema.ts";

export type Extensions = Record<string, unknown>;

function objectSchema(schema: JsonSchema): Record<string, unknown> {
  return typeof schema === "object" ? schema : {};
}

function queryInputSchema(op: Operation): Record<string, unknown> {
  const query = op.parameters.filter((p) => p.in === "query");
  const required = query.filter((p) => p.required).map((p) => p.name);
  return {
    properties: Object.fromEntries(query.map((p) => [p.name, p.schema])),
    ...(required.length ? { required } : {}),
  };
}

function pathParamsSchema(op: Operation): Record<string, unknown> | undefined {
  const path = op.parameters.filter((p) => p.in === "path");
  if (path.length === 0) return undefined;
  return { properties: Object.fromEntries(path.map((p) => [p.name, p.schema])), required: path.map((p) => p.name) };
}

/** The declaration for one operation (before the per-request enrichment). */
function declare(op: Operation): Record<string, unknown> {
  const output =
    op.output.example !== undefined
      ? { output: { example: op.output.example, schema: objectSchema(op.output.schema) } }
      : {};
  const pathSchema = pathParamsSchema(op);
  const path = pathSchema ? { pathParamsSchema: pathSchema } : {};
  if (op.body) {
    const body =
      op.body.example !== undefined && typeof op.body.example === "object"
        ? (op.body.example as Record<string, unknown>)
        : {};
    return declareDiscoveryExtension({
      bodyType: "json",
      input: body,
      inputSchema: objectSchema(op.body.schema),
      ...path,
      ...output,
    }).bazaar as never;
  }
  return declareDiscoveryExtension({ input: op.inputExample, inputSchema: queryInputSchema(op), ...path, ...output })
    .bazaar as never;
}

/**
 * `{bazaar: ...}` for a request to `path` (relative to the API root) with `method`, or null when
 * the API describes no such operation (then the 402 carries no listing rather than a wrong one).
 * `basePath` is where the API root sits on the request's origin: `/t/<slug>` in path mode, `""`
 * on a tenant's own host.
 */
export function bazaarExtensionFor(
  description: ApiDescription,
  method: string,
  path: string,
  basePath = "",
): Extensions | null {
  const op = findOperation(description, method, path);
  if (!op || !op.declared) return null;
  const declaration = declare(op);
  const routePattern = `${basePath}${op.path.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ":$1")}`;
  const requestPath = `${basePath}${path}`;
  // The library's own per-request step: sets info.input.method (and routeTemplate + pathParams).
  const context = { method: op.method, routePattern, adapter: { getPath: () => requestPath } };
  const enrich = bazaarResourceServerExtension.enrichDeclaration!;
  return { bazaar: enrich(declaration, context as never) };
}

/** For a /discovery/resources item: the listing of the API's first described paid operation, or {}. */
export function itemExtensions(config: TenantConfig): Extensions {
  const d = cachedDescription(config);
  const op = d.operations.find((o) => o.declared && o.price);
  return (op && bazaarExtensionFor(d, op.method, concretePath(op), `/t/${config.slug}`)) ?? {};
}

const cache = new Map<string, ApiDescription>();
const CACHE_MAX = 512;

/** Descriptions are pure functions of slug@version: one per isolate, bounded. */
export function cachedDescription(config: TenantConfig): ApiDescription {
  const key = `${config.slug}@${config.version}`;
  let hit = cache.get(key);
  if (!hit) {
    hit = describeTenant(config);
    cache.set(key, hit);
    if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value!);
  }
  return hit;
}

/** What the gateway passes to `challenge()`: the extensions for this paid request, or undefined. */
export function challengeExtensions(config: TenantConfig, request: Request, path: string): Extensions | undefined {
  try {
    const url = new URL(request.url);
    const basePath = url.pathname.startsWith(`/t/${config.slug}`) ? `/t/${config.slug}` : "";
    return bazaarExtensionFor(cachedDescription(config), request.method, path, basePath) ?? undefined;
  } catch (err) {
    // A listing is an extra: a failure to build one must never turn a 402 into a 500.
    console.error(`bazaar extension for ${config.slug} failed`, err);
    return undefined;
  }
}
