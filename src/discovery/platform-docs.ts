// Platform-wide discovery documents, pure (docs/ARCHITECTURE.md §11): the platform origin's
// `/openapi.json` = the platform's own routes + every operation of every paid path-mode tenant
// under `/t/<slug>`, and `/.well-known/x402` = `{version: 1, resources: [urls]}` of every paid
// resource. Both are built from the same descriptions as the 402s, so they cannot disagree.
//
// Bounded growth: the handler rebuilds only when the catalog version changes and serves the
// cached text with an ETag otherwise; bench/discovery-openapi.ts measures 1,000 tenants.
import type { ApiDescription, Operation } from "./description-types.ts";
import { pathsFor, X402_COMPONENTS } from "./openapi.ts";

// An OpenAPI document is open-ended JSON; it is built here and validated as OpenAPI 3.1 in tests.
// biome-ignore lint/suspicious/noExplicitAny: nested document fields are read and written freely
type Doc = Record<string, any>;

/** A callable URL for an operation: path parameters filled with the description's example. */
export function concretePath(op: Operation): string {
  return op.path.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) =>
    encodeURIComponent(op.pathExample[name] ?? "1"),
  );
}

/** Every paid resource URL of `d` served at `baseUrl` (no trailing slash); free operations are none. */
export function paidResources(d: ApiDescription, baseUrl: string): string[] {
  if (!d.payment) return [];
  return d.operations.filter((op) => op.price).map((op) => `${baseUrl}${concretePath(op)}`);
}

export function wellKnownX402(resources: readonly string[]): { version: 1; resources: string[] } {
  return { version: 1, resources: [...new Set(resources)] };
}

/**
 * The platform document: `platform` (its own routes, untouched) plus each paid description's
 * operations at `/t/<slug>/...`, and the x402 components they reference.
 */
export function platformOpenApi(platform: Doc, descriptions: readonly ApiDescription[], origin?: string): Doc {
  const paths: Doc = { ...platform.paths };
  const tags: Doc[] = [...(platform.tags ?? [])];
  for (const d of descriptions) {
    if (!d.payment) continue;
    Object.assign(paths, pathsFor(d, `/t/${d.slug}`));
    tags.push({ name: d.slug, description: d.description });
  }
  const components = platform.components ?? {};
  return {
    ...platform,
    ...(tags.length ? { tags } : {}),
    // Where agents find the guidance (agentcash discovery profile); absolute, so it needs the origin.
    ...(origin ? { "x-agentcash-guidance": { llmsTxtUrl: `${origin}/llms.txt` } } : {}),
    paths,
    components: {
      ...components,
      schemas: { ...components.schemas, ...X402_COMPONENTS.schemas },
      parameters: { ...components.parameters, ...X402_COMPONENTS.parameters },
      responses: { ...components.responses, ...X402_COMPONENTS.responses },
    },
  };
}
