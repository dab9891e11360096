// The platform's own part of /openapi.json (docs/ARCHITECTURE.md §8, §11), generated, never
// hand-kept: components from the valibot response schemas (schemas.ts), paths from the route
// documentation table (route-docs.ts) with each query parameter converted from the schema its
// handler parses with (query.ts). @valibot/to-json-schema does the conversion, so a changed
// range or field changes the document in the same commit. src/discovery/ composes this part
// with every tenant's paid operations for the platform origin's /openapi.json.
import { toJsonSchema, toJsonSchemaDefs } from "@valibot/to-json-schema";
import { COMPONENTS, type ComponentName } from "./schemas.ts";
import { type RouteDoc, ROUTE_DOCS } from "./route-docs.ts";
import type { QuerySpec } from "./query.ts";

type Schema = Record<string, unknown>;
const TARGET = { target: "draft-2020-12" } as const;
const ref = (name: ComponentName): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (name: ComponentName) => ({ "application/json": { schema: ref(name) } });

/**
 * One schema as a plain JSON Schema (no $schema: it is embedded in an OpenAPI document). A custom
 * `check` (the slug rules of `api`) has no JSON Schema form: the parameter is documented as its type.
 */
function plain(schema: Parameters<typeof toJsonSchema>[0]): Schema {
  const { $schema: _drop, ...rest } = toJsonSchema(schema, { ...TARGET, ignoreActions: ["check"] }) as Schema;
  return rest;
}

function queryParameters(spec: QuerySpec): Schema[] {
  return Object.entries(spec).map(([name, p]) => ({
    name,
    in: "query",
    required: false,
    schema: { ...plain(p.schema), ...(p.fallback === null ? {} : { default: p.fallback }) },
    description: p.description,
  }));
}

const errorResponse = (description: string) => ({ description, content: json("Error") });

const CACHE_HEADERS = {
  ETag: { schema: { type: "string" }, description: "Changes with the snapshot version and the query." },
  "Cache-Control": { schema: { type: "string" }, description: "public, max-age = the rollup period in seconds." },
  "Access-Control-Allow-Origin": { schema: { type: "string", const: "*" } },
};

function queryNames(doc: RouteDoc): string {
  return Object.keys(doc.query ?? {}).join(", ");
}

function responses(doc: RouteDoc): Schema {
  const ok = {
    description: doc.ok.description,
    ...(doc.cached ? { headers: CACHE_HEADERS } : {}),
    ...(doc.ok.schema ? { content: json(doc.ok.schema) } : {}),
  };
  const out: Schema = { [String(doc.ok.status ?? 200)]: ok };
  for (const [status, r] of Object.entries(doc.extra ?? {})) {
    out[status] = { description: r.description, ...(r.schema ? { content: json(r.schema) } : {}) };
  }
  if (doc.cached) {
    out["304"] = { description: "Not modified (If-None-Match matched the ETag)." };
    const names = queryNames(doc);
    if (names) {
      const dir = doc.query && "directory" in doc.query ? " or `unknown_directory`" : "";
      out["400"] = errorResponse(`Bad query parameter: \`invalid_parameter\` (${names})${dir}.`);
    }
  }
  for (const [status, description] of Object.entries(doc.errors ?? {})) out[status] = errorResponse(description);
  return out;
}

function operation(doc: RouteDoc): Schema {
  const parameters = [
    ...(doc.pathParams ?? []).map((name) => ({ name, in: "path", required: true, schema: { type: "string" } })),
    ...queryParameters(doc.query ?? {}),
  ];
  return {
    summary: doc.summary,
    ...(doc.auth === "bearer" ? { security: [{ bearer: [] }] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(doc.body ? { requestBody: { required: true, content: json(doc.body) } } : {}),
    responses: responses(doc),
  };
}

/** The document of `docs` (pure; exported for tests). */
export function generateOpenApi(docs: readonly RouteDoc[] = ROUTE_DOCS) {
  const paths: Record<string, Record<string, Schema>> = {};
  for (const doc of docs) {
    const methods = paths[doc.path] ?? {};
    methods[doc.method] = operation(doc);
    paths[doc.path] = methods;
  }
  const overrideRef = (ctx: { referenceId: string }) => `#/components/schemas/${ctx.referenceId}`;
  const schemas = toJsonSchemaDefs(COMPONENTS, { ...TARGET, overrideRef });
  return {
    openapi: "3.1.0",
    info: {
      title: "402claw public API",
      version: "1.0.0",
      description:
        "Trending leaderboard and x402 discovery of 402claw APIs. Reads come from snapshots computed every rollup " +
        "period; responses carry ETag and Cache-Control and allow any origin. " +
        "Errors use one envelope: {error: {code, message}, requestId}.",
    },
    servers: [{ url: "/" }],
    components: {
      schemas: schemas as unknown as Record<string, Schema>,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "Creator API key (claw_sk_…) or operator token." },
      },
    },
    paths,
  };
}

/** The platform part, generated once per isolate. */
export const OPENAPI = generateOpenApi();
