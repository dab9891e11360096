// One description per API (docs/ARCHITECTURE.md §11): derived from the stored tenant config, never
// hand-kept, and the single source of every discovery document (the bazaar extension in each 402,
// the per-API and platform OpenAPI, /.well-known/x402, llms.txt, the markdown twin). A redeploy
// makes a new config version, so every document changes with it at once.
import type { TenantConfig } from "../config/tenant-config.ts";
import { assetFor } from "../config/assets.ts";
import { atomicToUsd, usdToAtomic } from "../../objects/shared/money.ts";
import { anyPaid, operationPrice } from "../config/prices.ts";
import type { OperationDecl } from "./declarations.ts";
import { datasetOperations } from "./dataset-operations.ts";
import type { ApiDescription, Operation, Parameter, Payment, Price } from "./description-types.ts";
import { instanceProblems, sampleFor, type JsonSchema } from "./json-schema.ts";

export function describeTenant(config: TenantConfig, contact?: { name: string }): ApiDescription {
  const r = config.resource;
  const described =
    r.type === "dataset"
      ? datasetOperations(r)
      : declaredOperations(r.type, r.operations, r.type === "proxy" ? r.methods : ["GET", "POST"]);
  const payment = paymentOf(config);
  // Each operation is priced as the dispatcher prices a request to it (src/config/prices.ts).
  const operations = described.map((op) => {
    const price = payment ? priceFor(config, payment.decimals, op) : null;
    return price ? { ...op, price } : op;
  });
  return {
    slug: config.slug,
    version: config.version,
    kind: config.resourceType,
    title: config.slug,
    description: config.description || `${config.slug}: a ${config.resourceType} API on 402claw`,
    directory: config.directory,
    hosts: config.hosts,
    payment,
    ...(contact ? { contact } : {}),
    operations,
  };
}

function priceFor(config: TenantConfig, decimals: number, op: Operation): Price | null {
  const { usd, pattern, mode } = operationPrice(config.prices, config.priceUsd, op.method, op.path);
  if (usd <= 0) return null;
  const atomic = usdToAtomic(usd, decimals);
  const usdDisplay = atomicToUsd(atomic, decimals);
  // A usage-priced operation shows its ceiling as such everywhere its display is used.
  const display = mode === "upto" ? `up to ${usdDisplay}, usage-priced` : usdDisplay;
  return { amountUsd: usdDisplay.slice(1), amountAtomic: atomic.toString(), display, pattern, mode };
}

export function paymentOf(config: TenantConfig): Payment | null {
  if (!anyPaid(config.prices, config.priceUsd) || !config.payTo) return null;
  const asset = assetFor(config.network, config.asset);
  if (!asset) return null;
  const atomic = usdToAtomic(config.priceUsd, asset.decimals);
  return {
    scheme: "exact",
    network: config.network,
    asset: asset.address,
    assetName: asset.name,
    decimals: asset.decimals,
    payTo: config.payTo,
    amountUsd: atomicToUsd(atomic, asset.decimals).slice(1),
    amountAtomic: atomic.toString(),
    display: atomicToUsd(atomic, asset.decimals),
  };
}

const QUERY_METHODS = new Set(["GET", "DELETE"]);

/** Function and proxy operations: what the creator declared, else one undeclared `GET /`. */
function declaredOperations(kind: string, decls: OperationDecl[] | undefined, methods: readonly string[]): Operation[] {
  if (!decls || decls.length === 0) {
    const method = methods.includes("GET") ? "GET" : (methods.find((m) => m !== "HEAD" && m !== "OPTIONS") ?? "GET");
    return [undeclared(kind, method as Operation["method"])];
  }
  return decls.map(fromDecl);
}

function undeclared(kind: string, method: Operation["method"]): Operation {
  return {
    method,
    path: "/",
    summary: `Call this ${kind} (its creator declared no schema)`,
    parameters: [],
    ...(QUERY_METHODS.has(method) ? {} : { body: { schema: { type: "object" } } }),
    output: { schema: {} },
    inputExample: {},
    pathExample: {},
    declared: false,
  };
}

function pathParams(path: string): string[] {
  return [...path.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!);
}

/** An example only when it validates: a wrong example is worse than none. */
function validExample(schema: JsonSchema | undefined, given: unknown): unknown {
  if (schema === undefined) return given;
  const candidate = given !== undefined ? given : sampleFor(schema);
  return candidate !== undefined && instanceProblems(schema, candidate).length === 0 ? candidate : undefined;
}

function fromDecl(d: OperationDecl): Operation {
  const params: Parameter[] = pathParams(d.path).map((name) => ({
    name,
    in: "path",
    required: true,
    description: `path parameter ${name}`,
    schema: { type: "string" },
  }));
  const queryMethod = QUERY_METHODS.has(d.method);
  const input = d.input as JsonSchema | undefined;
  let inputExample: Record<string, unknown> = {};
  let body: Operation["body"];
  if (queryMethod && input && typeof input === "object") {
    const props = (input.properties ?? {}) as Record<string, Record<string, unknown>>;
    const required = new Set(Array.isArray(input.required) ? (input.required as string[]) : []);
    for (const [name, schema] of Object.entries(props)) {
      const description = typeof schema.description === "string" ? schema.description : `query parameter ${name}`;
      params.push({ name, in: "query", required: required.has(name), description, schema });
    }
    const example = validExample(input, d.inputExample);
    if (example && typeof example === "object") inputExample = example as Record<string, unknown>;
  } else if (!queryMethod) {
    const schema = input ?? { type: "object" };
    const example = validExample(schema, d.inputExample);
    body = { schema, ...(example !== undefined ? { example } : {}) };
  }
  const outSchema = (d.output as JsonSchema | undefined) ?? {};
  const outExample = d.output !== undefined ? validExample(outSchema, d.outputExample) : d.outputExample;
  return {
    method: d.method as Operation["method"],
    path: d.path,
    summary: d.summary ?? `${d.method} ${d.path}`,
    ...(d.description ? { description: d.description } : {}),
    parameters: params,
    ...(body ? { body } : {}),
    output: { schema: outSchema, ...(outExample !== undefined ? { example: outExample } : {}) },
    inputExample,
    pathExample: Object.fromEntries(pathParams(d.path).map((n) => [n, "example"])),
    declared: d.input !== undefined || d.output !== undefined,
  };
}

/** The operation a request is for: same method, and the path matches the template. */
export function findOperation(description: ApiDescription, method: string, path: string): Operation | null {
  const m = method.toUpperCase() === "HEAD" ? "GET" : method.toUpperCase();
  const clean = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  for (const op of description.operations) {
    if (op.method !== m) continue;
    const pattern = new RegExp(
      `^${op.path
        .split(/\{[A-Za-z_][A-Za-z0-9_]*\}/)
        .map(escape)
        .join("[^/]+")}$`,
    );
    if (pattern.test(clean)) return op;
  }
  return null;
}
