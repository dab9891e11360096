// `claw wrap <url>`: a proxy tenant around an upstream API (README "Proxies"). Flags are checked
// here, then one multipart POST /v1/tenants/:slug/deployments (config only, plus secrets). A name
// derived from the URL never replaces an existing API that is something else: pass --name.
// Discovery: `--openapi <file|url>` (cli/deploy/openapi-load.ts) and `--operation` (repeatable,
// cli/deploy/operation-flag.ts) become `resource.operations`, kept to the allowed methods.
import { defineCommand } from "citty";
import { PlatformApi } from "../api/platform.ts";
import type { TenantView } from "../api/types.ts";
import { CliError, EXIT, usageError } from "../core/errors.ts";
import { deployArgs, checkSlug, configFromFlags, secretsFromFlags, slugFrom, parseCount } from "../deploy/flags.ts";
import { reportDeployed, upload, withPlatformDefaults } from "../deploy/upload.ts";
import { loadOperations } from "../deploy/openapi-load.ts";
import { parseOperationFlag } from "../deploy/operation-flag.ts";
import type { OperationDecl } from "../deploy/openapi.ts";
import { jsonArg, plural, repeated, runCommand, type Ui } from "../core/ui.ts";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** `--transform 'pick=a,b;rename=a:x,b:y'` or JSON `{"pick":[…],"rename":{…}}`. */
export function parseTransform(value: string): { pick?: string[]; rename?: Record<string, string> } {
  const bad = () =>
    usageError(
      `--transform must be 'pick=a,b;rename=from:to' or JSON {"pick":[...],"rename":{...}}, got '${value}'`,
      "invalid_transform",
    );
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
  for (const part of value
    .split(";")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [key, list] = part.split("=", 2) as [string, string | undefined];
    const items = (list ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
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
  if (!m)
    throw usageError(
      `--secret-header must be 'Header=SECRET_NAME' or 'Header=Bearer SECRET_NAME', got '${value}'`,
      "invalid_secret_header",
    );
  return { header: m[1]!, secret: m[3]!, ...(m[2] ? { prefix: m[2] } : {}) };
}

export const wrapCommand = defineCommand({
  meta: { name: "wrap", description: "Sell access to an upstream HTTP API through a paid proxy" },
  args: {
    url: { type: "positional", required: true, description: "Upstream base URL (its path is kept)" },
    ...deployArgs,
    method: { type: "string", description: "Allowed HTTP method (repeatable; default GET)" },
    "secret-header": {
      type: "string",
      description:
        "Inject a header from a secret: 'Authorization=Bearer UPSTREAM_KEY' (repeatable; $UPSTREAM_KEY is uploaded)",
    },
    "cache-ttl": { type: "string", description: "Cache GET responses for N seconds (upstream no-store is respected)" },
    transform: { type: "string", description: "JSON transform: 'pick=a,b;rename=from:to' or JSON" },
    "allow-loopback": {
      type: "boolean",
      description: "Allow a loopback/private upstream (local development only)",
      default: false,
    },
    openapi: {
      type: "string",
      description: "Upstream OpenAPI 3.x document (file or URL, JSON or YAML): its operations are listed for discovery",
    },
    operation: { type: "string", description: "Declare an operation: 'GET /items/{id}?q,limit! Summary' (repeatable)" },
    ...jsonArg,
  },
  async run({ args, rawArgs }) {
    await runCommand(args.json, async (ui) => {
      const upstream = upstreamUrl(args.url);
      const slug = checkSlug(args.name ?? slugForUpstream(upstream));
      const { resource, secrets } = proxyResource(upstream, args, rawArgs);
      const api = PlatformApi.fromEnv();
      api.requireKey();
      const declaring = args.openapi !== undefined || repeated(rawArgs, "operation").length > 0;
      // A redeploy without --method keeps the proxy's methods, so declarations are filtered by those.
      const needed = args.name === undefined || (declaring && !resource.methods);
      const existing = needed ? await existingTenant(api, slug) : null;
      if (args.name === undefined) refuseOverwrite(existing, slug, resource.upstream);
      const previous = existing?.resource.type === "proxy" ? existing.resource.methods : undefined;
      const operations = await declaredOperations(ui, args.openapi, rawArgs, resource.methods ?? previous ?? ["GET"]);
      if (operations) resource.operations = operations;
      const config = await withPlatformDefaults(api, configFromFlags(args, rawArgs));
      const form = new FormData();
      form.set("config", JSON.stringify({ ...config, resource }));
      if (Object.keys(secrets).length) form.set("secrets", JSON.stringify(secrets));
      const result = await upload(ui, api, slug, form, `a proxy for ${upstream.origin}`);
      return reportDeployed(ui, api, "proxy", slug, result);
    });
  },
});

function upstreamUrl(value: string): URL {
  let upstream: URL;
  try {
    upstream = new URL(value);
  } catch {
    throw usageError(
      `not a URL: '${value}'; pass the upstream base URL, e.g. https://api.example.com/v1`,
      "invalid_url",
    );
  }
  if (upstream.protocol !== "https:" && upstream.protocol !== "http:") {
    throw usageError(`the upstream must be http(s), got ${upstream.protocol}`, "invalid_url");
  }
  return upstream;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Pure: the name `claw wrap` suggests for an upstream. A domain gives its name without `api.`,
 * `www.` and the TLD (api.example.com → example); an IP address or localhost has no such name,
 * so it is `local-<port>` for loopback and `ip-<a-b-c-d>[-<port>]` otherwise (never `127-0-0`).
 */
export function slugForUpstream(url: URL): string {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = url.port ? `-${url.port}` : "";
  const loopback = host === "localhost" || host.endsWith(".localhost") || host === "::1" || /^127\./.test(host);
  if (loopback) return `local${port || `-${url.protocol === "https:" ? 443 : 80}`}`;
  if (IPV4.test(host) || host.includes(":")) return slugFrom(`ip-${host.replace(/[.:]+/g, "-")}${port}`);
  return slugFrom(host.replace(/^(api|www)\./, ""));
}

type WrapArgs = Record<string, unknown> & { "cache-ttl"?: string; transform?: string; "allow-loopback"?: boolean };

function proxyResource(upstream: URL, args: WrapArgs, rawArgs: string[]) {
  const methods = repeated(rawArgs, "method").map((m) => m.toUpperCase());
  for (const m of methods) {
    if (!METHODS.has(m))
      throw usageError(
        `--method ${m} is not an HTTP method (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)`,
        "invalid_method",
      );
  }
  const headers: Record<string, { secret: string; prefix?: string }> = {};
  const headerSecrets: string[] = [];
  for (const value of repeated(rawArgs, "secret-header")) {
    const h = parseSecretHeader(value);
    headers[h.header] = { secret: h.secret, ...(h.prefix ? { prefix: h.prefix } : {}) };
    headerSecrets.push(h.secret);
  }
  const names = [...new Set([...repeated(rawArgs, "secret"), ...headerSecrets])];
  const secrets = secretsFromFlags(names.flatMap((n) => ["--secret", n]));
  const resource: Record<string, unknown> & { upstream: string; methods?: string[] } = {
    type: "proxy",
    upstream: upstream.toString(),
  };
  if (methods.length) resource.methods = [...new Set(methods)];
  if (Object.keys(headers).length) resource.headers = headers;
  if (args["cache-ttl"] !== undefined) resource.cacheTtlSeconds = parseCount("cache-ttl", args["cache-ttl"]);
  if (args.transform !== undefined) resource.transform = parseTransform(args.transform);
  if (args["allow-loopback"]) resource.allowLoopback = true;
  return { resource, secrets };
}

async function existingTenant(api: PlatformApi, slug: string): Promise<TenantView | null> {
  try {
    return (await api.getTenant(slug)).tenant;
  } catch (err) {
    if (err instanceof CliError && err.exitCode === EXIT.notFound) return null;
    throw err;
  }
}

/** A derived name that is already a different API (another upstream, or not a proxy): exit 5. */
function refuseOverwrite(existing: TenantView | null, slug: string, upstream: string): void {
  if (!existing) return;
  const r = existing.resource;
  if (r.type === "proxy" && r.upstream === upstream) return; // a redeploy of the same proxy
  const what = r.type === "proxy" ? `a proxy for ${r.upstream}` : `a ${r.type}`;
  throw new CliError(
    `'${slug}' already exists (${what}); pass --name to wrap ${upstream} as another API, or --name ${slug} to replace it`,
    EXIT.conflict,
    "name_in_use",
  );
}

/** --openapi and --operation together (the platform refuses a METHOD /path declared twice); none → undefined. */
async function declaredOperations(ui: Ui, openapi: string | undefined, rawArgs: string[], methods: string[]) {
  const fromFlags = repeated(rawArgs, "operation").map(parseOperationFlag);
  const refused = fromFlags.filter((op) => !methods.includes(op.method));
  if (refused.length) {
    const what = refused.map((op) => `${op.method} ${op.path}`).join(", ");
    const allows = `the proxy allows only ${methods.join(", ")}; add --method`;
    throw usageError(`--operation ${what}: ${allows}`, "invalid_operation");
  }
  let fromDoc: OperationDecl[] = [];
  if (openapi !== undefined) {
    const fromNpm = process.env.npm_lifecycle_event === "claw" && process.env.INIT_CWD;
    const converted = await loadOperations(openapi, methods, fromNpm || process.cwd());
    for (const why of converted.skipped) ui.warn(`--openapi: left out ${why}`);
    if (converted.otherMethods) {
      const verb = converted.otherMethods === 1 ? "uses" : "use";
      ui.info(
        `--openapi: ${plural(converted.otherMethods, "operation")} ${verb} a method the proxy does not allow ` +
          `(${methods.join(", ")}); add --method to list them`,
      );
    }
    fromDoc = converted.operations;
    ui.success(`--openapi: ${plural(fromDoc.length, "operation")} declared for discovery`);
  }
  const all = [...fromDoc, ...fromFlags];
  return openapi !== undefined || all.length ? all : undefined;
}
