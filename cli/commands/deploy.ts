// `claw deploy <path>`: .csv/.json → dataset, .js/.ts/.mjs/.mts/.cjs → function (bundled here
// with esbuild). `claw wrap <url>`: a proxy tenant around an upstream API. Everything is
// checked locally first (file type, readability, flags, secrets from the environment, the
// function's exported config), then ONE multipart POST /v1/tenants/:slug/deployments; the server
// validates before it writes, so a refused deploy leaves nothing behind.
import { defineCommand } from "citty";
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { basename, extname, resolve } from "node:path";
import { ApiClient } from "../api/client.ts";
import { CliError, usageError } from "../errors.ts";
import { deployArgs, checkSlug, configFromFlags, secretsFromFlags, slugFrom, parseCount } from "../deploy/flags.ts";
import { bundleFunction, functionResource, readExportedConfig } from "../deploy/bundle.ts";
import { jsonArg, repeated, runCommand, type Ui } from "../ui.ts";

const DATASET_EXT = new Set([".csv", ".json"]);
const FUNCTION_EXT = new Set([".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx"]);

export function kindOf(path: string): "dataset" | "function" {
  const ext = extname(path).toLowerCase();
  if (DATASET_EXT.has(ext)) return "dataset";
  if (FUNCTION_EXT.has(ext)) return "function";
  throw usageError(`unknown file type '${ext || basename(path)}': deploy a dataset (.csv, .json) or a function (.js, .ts, .mjs); to proxy an API use \`claw wrap <url>\``, "unknown_file_type");
}

function readable(path: string): Buffer {
  try {
    if (!statSync(path).isFile()) throw new Error("not a regular file");
    accessSync(path, constants.R_OK);
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (err as Error).message;
    throw usageError(`cannot read ${path}: ${why}`, "unreadable_file");
  }
}

async function upload(ui: Ui, client: ApiClient, slug: string, form: FormData, what: string): Promise<any> {
  ui.start(`Deploying ${what} to ${client.apiUrl} as '${slug}'…`);
  const started = Date.now();
  const body = await client.request(`/v1/tenants/${slug}/deployments`, { method: "POST", form });
  return { ...body, ms: Date.now() - started };
}

function callLine(endpoint: string, kind: string): string {
  const url = kind === "dataset" ? `${endpoint}v1/records?limit=3` : endpoint;
  return `claw call '${url}'`;
}

function report(ui: Ui, kind: string, slug: string, result: any): Record<string, unknown> {
  const tenant = result.tenant ?? {};
  const endpoint: string = tenant.endpoints?.path ?? "";
  const price = tenant.price?.display ?? (tenant.priceUsd ? `$${tenant.priceUsd}` : "$0.00");
  const free = !tenant.priceUsd;
  const call = callLine(endpoint, kind);
  const out = {
    slug,
    kind,
    version: result.deployment?.version ?? tenant.version,
    endpoint,
    hosts: tenant.endpoints?.hosts ?? [],
    price: { usd: tenant.priceUsd ?? 0, display: price, atomic: tenant.price?.atomic ?? "0" },
    payTo: tenant.payTo ?? null,
    secretNames: tenant.secretNames ?? [],
    deployment: result.deployment ?? null,
    call,
    ms: result.ms,
  };
  const rows = result.deployment?.rows;
  ui.success(`Deployed ${kind} '${slug}' v${out.version}${typeof rows === "number" ? ` (${rows} rows)` : ""} in ${result.ms} ms`);
  ui.box(
    [
      `Endpoint:  ${endpoint}`,
      ...out.hosts.map((h: string) => `Host:      ${h}`),
      `Price:     ${free ? "free" : `${price} per call → ${out.payTo}`}`,
      `Try it:    ${call}`,
      `Stats:     claw stats ${slug}`,
    ].join("\n"),
  );
  return out;
}

export const deployCommand = defineCommand({
  meta: { name: "deploy", description: "Deploy a dataset (.csv, .json) or a function (.js, .ts, .mjs) as a pay-per-call API" },
  args: {
    path: { type: "positional", required: true, description: "The file to deploy" },
    ...deployArgs,
    format: { type: "string", description: "Dataset format when the extension does not say: csv | json" },
    "id-field": { type: "string", description: "Dataset field used by /v1/records/:id" },
    ...jsonArg,
  },
  async run({ args, rawArgs }) {
    await runCommand(args.json, async (ui) => {
      const path = resolve(args.path);
      const kind = kindOf(path);
      const bytes = readable(path);
      const slug = checkSlug(args.name ?? slugFrom(basename(path)));
      const config: Record<string, unknown> = configFromFlags(args, rawArgs);
      const secrets = secretsFromFlags(rawArgs);
      const client = ApiClient.fromEnv();
      client.requireKey();
      const form = new FormData();
      if (kind === "dataset") {
        if (Object.keys(secrets).length) throw usageError("--secret is for functions and proxies; datasets have no code to read it", "invalid_secret");
        const resource: Record<string, unknown> = {};
        if (args.format) {
          if (args.format !== "csv" && args.format !== "json") throw usageError(`--format must be csv or json, got '${args.format}'`, "invalid_format");
          resource.format = args.format;
        }
        if (args["id-field"]) resource.idField = args["id-field"];
        if (Object.keys(resource).length) config.resource = resource;
        form.set("file", new File([new Uint8Array(bytes)], basename(path)));
        form.set("config", JSON.stringify(config));
        const result = await upload(ui, client, slug, form, `${basename(path)} (${(bytes.length / 1024).toFixed(1)} KiB)`);
        return report(ui, kind, slug, result);
      }
      ui.start(`Bundling ${basename(path)} with esbuild…`);
      const bundle = await bundleFunction(path);
      for (const w of bundle.warnings) ui.warn(w);
      const resource = functionResource(await readExportedConfig(bundle.code));
      for (const name of Object.keys(secrets)) if (!resource.exposeEnv.includes(name)) ui.warn(`secret ${name} is uploaded but not in config.exposeEnv, so your code will not see it`);
      ui.success(`Bundled ${(bundle.bytes / 1024).toFixed(1)} KiB; egress: ${resource.allowedHosts.join(", ") || "none"}; timeout ${resource.maxDurationMs} ms`);
      config.resource = resource;
      form.set("code", new File([bundle.code], "worker.js", { type: "application/javascript+module" }));
      form.set("config", JSON.stringify(config));
      if (Object.keys(secrets).length) form.set("secrets", JSON.stringify(secrets));
      const result = await upload(ui, client, slug, form, `function ${basename(path)}`);
      return report(ui, kind, slug, result);
    });
  },
});

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** `--transform 'pick=a,b;rename=a:x,b:y'` or JSON `{"pick":[…],"rename":{…}}`. */
export function parseTransform(value: string): { pick?: string[]; rename?: Record<string, string> } {
  const bad = () => usageError(`--transform must be 'pick=a,b;rename=from:to' or JSON {"pick":[...],"rename":{...}}, got '${value}'`, "invalid_transform");
  if (value.trim().startsWith("{")) {
    try {
      const t = JSON.parse(value);
      if (typeof t !== "object" || !t || Object.keys(t).some((k) => k !== "pick" && k !== "rename")) throw bad();
      return t;
    } catch (err) {
      throw err instanceof CliError ? err : bad();
    }
  }
  const out: { pick?: string[]; rename?: Record<string, string> } = {};
  for (const part of value.split(";").map((p) => p.trim()).filter(Boolean)) {
    const [key, list] = part.split("=", 2) as [string, string | undefined];
    const items = (list ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    if (!items.length) throw bad();
    if (key === "pick") out.pick = items;
    else if (key === "rename") {
      out.rename = {};
      for (const item of items) {
        const [from, to] = item.split(":");
        if (!from || !to) throw bad();
        out.rename[from] = to;
      }
    } else throw bad();
  }
  return out;
}

/** "Authorization=UPSTREAM_KEY" or "Authorization=Bearer UPSTREAM_KEY" (prefix "Bearer "). */
export function parseSecretHeader(value: string): { header: string; secret: string; prefix?: string } {
  const m = /^([A-Za-z0-9-]+)=(.*?)([A-Za-z_][A-Za-z0-9_]*)$/.exec(value.trim());
  if (!m) throw usageError(`--secret-header must be 'Header=SECRET_NAME' or 'Header=Bearer SECRET_NAME', got '${value}'`, "invalid_secret_header");
  return { header: m[1]!, secret: m[3]!, ...(m[2] ? { prefix: m[2] } : {}) };
}

export const wrapCommand = defineCommand({
  meta: { name: "wrap", description: "Sell access to an upstream HTTP API through a paid proxy" },
  args: {
    url: { type: "positional", required: true, description: "Upstream base URL (its path is kept)" },
    ...deployArgs,
    method: { type: "string", description: "Allowed HTTP method (repeatable; default GET)" },
    "secret-header": { type: "string", description: "Inject a header from a secret: 'Authorization=Bearer UPSTREAM_KEY' (repeatable; $UPSTREAM_KEY is uploaded)" },
    "cache-ttl": { type: "string", description: "Cache GET responses for N seconds (upstream no-store is respected)" },
    transform: { type: "string", description: "JSON transform: 'pick=a,b;rename=from:to' or JSON" },
    "allow-loopback": { type: "boolean", description: "Allow a loopback/private upstream (local development only)", default: false },
    ...jsonArg,
  },
  async run({ args, rawArgs }) {
    await runCommand(args.json, async (ui) => {
      let upstream: URL;
      try {
        upstream = new URL(args.url);
      } catch {
        throw usageError(`not a URL: '${args.url}'; pass the upstream base URL, e.g. https://api.example.com/v1`, "invalid_url");
      }
      if (upstream.protocol !== "https:" && upstream.protocol !== "http:") throw usageError(`the upstream must be http(s), got ${upstream.protocol}`, "invalid_url");
      const slug = checkSlug(args.name ?? slugFrom(upstream.hostname.replace(/^(api|www)\./, "")));
      const config: Record<string, unknown> = configFromFlags(args, rawArgs);
      const methods = repeated(rawArgs, "method").map((m) => m.toUpperCase());
      for (const m of methods) if (!METHODS.has(m)) throw usageError(`--method ${m} is not an HTTP method (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)`, "invalid_method");
      const headers: Record<string, { secret: string; prefix?: string }> = {};
      const headerSecrets: string[] = [];
      for (const value of repeated(rawArgs, "secret-header")) {
        const h = parseSecretHeader(value);
        headers[h.header] = { secret: h.secret, ...(h.prefix ? { prefix: h.prefix } : {}) };
        headerSecrets.push(h.secret);
      }
      const names = [...new Set([...repeated(rawArgs, "secret"), ...headerSecrets])];
      const secrets = secretsFromFlags(names.flatMap((n) => ["--secret", n]));
      const resource: Record<string, unknown> = { type: "proxy", upstream: upstream.toString() };
      if (methods.length) resource.methods = [...new Set(methods)];
      if (Object.keys(headers).length) resource.headers = headers;
      if (args["cache-ttl"] !== undefined) resource.cacheTtlSeconds = parseCount("cache-ttl", args["cache-ttl"]);
      if (args.transform !== undefined) resource.transform = parseTransform(args.transform);
      if (args["allow-loopback"]) resource.allowLoopback = true;
      config.resource = resource;
      const client = ApiClient.fromEnv();
      client.requireKey();
      const form = new FormData();
      form.set("config", JSON.stringify(config));
      if (Object.keys(secrets).length) form.set("secrets", JSON.stringify(secrets));
      const result = await upload(ui, client, slug, form, `a proxy for ${upstream.origin}`);
      return report(ui, "proxy", slug, result);
    });
  },
});

