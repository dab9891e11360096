// What `claw publish` uploads for a tenant, built from the platform's view of the tenant (GET
// /v1/tenants/:slug: slug, type, version, secret names) plus the creator's local files, because
// the platform has no creator-facing endpoint to download a tenant's stored artifact:
// - dataset: the dataset engine (src/runtimes/generated, the same bundle Worker Loader runs) as
//   `engine.js`, the normalized dataset as a text module `dataset.json.txt`, and a small `index.js`
//   main module that hands the engine a DATASET fetcher over that text. The data is parsed here
//   with the platform's own parser. Capped at 5 MiB normalized (Workers script size limits);
//   bigger datasets need the R2-backed store, which a production control plane would bind.
// - function: the same esbuild bundle `claw deploy` uploads, as `worker.js`.
// - proxy: not yet (its engine is configured by the platform, not by the creator's files).
// Bindings: plain_text TENANT_SLUG / TENANT_VERSION, and one secret_text per secret name, the
// value read from the environment ($NAME), never from the platform (which never returns values).
import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { CliError, EXIT, usageError } from "../errors.ts";
import { bundleFunction } from "../deploy/bundle.ts";
import { DATASET_ENGINE_SOURCE } from "../../src/runtimes/generated/dataset-engine.ts";
import { build } from "esbuild";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_ROOT } from "../local/paths.ts";
import type { Binding, ScriptModule, ScriptUpload } from "./cloudflare-api.ts";

import { TENANT_COMPATIBILITY_DATE } from "../../src/config/compat.ts";

export { TENANT_COMPATIBILITY_DATE };
export const MAX_PUBLISHED_DATASET_BYTES = 5 * 1024 * 1024;

export interface TenantInfo {
  slug: string;
  resourceType: "dataset" | "function" | "proxy";
  version: number;
  owner?: string;
  secretNames?: string[];
  resource?: { format?: "csv" | "json"; idField?: string | null; exposeEnv?: string[] };
}

/** `tenant-<slug>`, as the dispatcher's DispatchRuntime looks it up. */
export function scriptNameFor(slug: string): string {
  return `tenant-${slug}`;
}

const DATASET_MAIN = `// 402claw dataset tenant: the platform's dataset engine over an embedded dataset.
import engine from "./engine.js";
import DATA from "./dataset.json.txt";
const DATASET = { fetch: async () => new Response(DATA, { headers: { "content-type": "application/json" } }) };
export default { fetch: (request, env, ctx) => engine.fetch(request, { ...env, DATASET }, ctx) };
`;

type ParseDataset = (input: string, format: "csv" | "json", opts?: { idField?: string }) => unknown;

/**
 * The platform's own dataset parser (src/runtimes/dataset/parse.ts), bundled with esbuild on
 * demand: it uses TypeScript syntax Node's type stripping cannot run, and the CLI must produce
 * exactly the normalized dataset the platform stores.
 */
async function platformParser(): Promise<ParseDataset> {
  const out = await build({ entryPoints: [join(REPO_ROOT, "src/runtimes/dataset/parse.ts")], bundle: true, write: false, format: "esm", platform: "node", logLevel: "silent" });
  const dir = mkdtempSync(join(tmpdir(), "claw-parse-"));
  try {
    const file = join(dir, "parse.mjs");
    writeFileSync(file, out.outputFiles[0]!.text);
    return ((await import(pathToFileURL(file).href)) as { parseDataset: ParseDataset }).parseDataset;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function buildUpload(tenant: TenantInfo, path: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<ScriptUpload> {
  const secretNames = tenant.secretNames ?? [];
  const missing = secretNames.filter((n) => !env[n]);
  if (missing.length) throw usageError(`'${tenant.slug}' uses secret${missing.length > 1 ? "s" : ""} ${missing.join(", ")}: export ${missing.map((n) => `$${n}`).join(", ")} before publishing (values are never downloaded from the platform)`, "missing_secret");
  const bindings: Binding[] = [
    ...secretNames.map((name): Binding => ({ type: "secret_text", name, text: env[name]! })),
    { type: "plain_text", name: "TENANT_SLUG", text: tenant.slug },
    { type: "plain_text", name: "TENANT_VERSION", text: String(tenant.version) },
  ];
  const tags = ["402claw", `tenant:${tenant.slug}`, `type:${tenant.resourceType}`, `version:${tenant.version}`];
  let modules: ScriptModule[];
  let mainModule: string;
  if (tenant.resourceType === "proxy") {
    throw new CliError(`publishing proxy tenants is not supported yet: '${tenant.slug}' keeps running on the platform's local runtime`, EXIT.usage, "unsupported_type");
  }
  if (!path) throw usageError(`pass the file '${tenant.slug}' was deployed from: \`claw publish ${tenant.slug} <path>\``, "missing_path");
  let source: string;
  try {
    source = readFileSync(path, "utf8");
  } catch (err) {
    throw usageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`, "unreadable_file");
  }
  if (tenant.resourceType === "dataset") {
    const ext = extname(path).toLowerCase();
    const format = tenant.resource?.format ?? (ext === ".json" ? "json" : ext === ".csv" ? "csv" : null);
    if (!format) throw usageError(`${basename(path)} is not a .csv or .json dataset`, "unknown_file_type");
    let normalized: string;
    try {
      normalized = JSON.stringify((await platformParser())(source, format, tenant.resource?.idField ? { idField: tenant.resource.idField } : {}));
    } catch (err) {
      throw usageError(`${basename(path)}: ${(err as Error).message}`, "invalid_dataset");
    }
    if (Buffer.byteLength(normalized) > MAX_PUBLISHED_DATASET_BYTES) {
      throw usageError(`${basename(path)} is ${(Buffer.byteLength(normalized) / 1048576).toFixed(1)} MiB normalized; publish embeds at most 5 MiB`, "dataset_too_large");
    }
    mainModule = "index.js";
    modules = [
      { name: "index.js", contentType: "application/javascript+module", content: DATASET_MAIN },
      { name: "engine.js", contentType: "application/javascript+module", content: DATASET_ENGINE_SOURCE },
      { name: "dataset.json.txt", contentType: "text/plain", content: normalized },
    ];
  } else {
    const bundle = await bundleFunction(path);
    mainModule = "worker.js";
    modules = [{ name: "worker.js", contentType: "application/javascript+module", content: bundle.code }];
  }
  return { scriptName: scriptNameFor(tenant.slug), mainModule, modules, bindings, compatibilityDate: TENANT_COMPATIBILITY_DATE, tags };
}

/** The plan without secret values, for --dry-run and --json. */
export function describeUpload(upload: ScriptUpload, url: string): Record<string, unknown> {
  return {
    method: "PUT",
    url,
    scriptName: upload.scriptName,
    mainModule: upload.mainModule,
    compatibilityDate: upload.compatibilityDate,
    tags: upload.tags,
    bindings: upload.bindings.map((b) => (b.type === "secret_text" ? { type: b.type, name: b.name, text: "(from $" + b.name + ")" } : b)),
    modules: upload.modules.map((m) => ({ name: m.name, contentType: m.contentType, bytes: Buffer.byteLength(m.content) })),
  };
}
