// POST /v1/tenants/:slug/deployments: a deploy (multipart) becomes a new tenant version.
//  - dataset: `file` part (CSV/JSON) + optional `config`;
//  - function: `code` part (one bundled ES module) + `config` with resource {type: "function", ...};
//  - proxy: no file part, `config` with resource {type: "proxy", upstream, ...};
//  - any type: optional `secrets` part (JSON {NAME: value}), merged into the tenant's secrets.
// Order matters for "nothing half-deployed": every check runs first, artifacts go to R2 under a
// fresh version prefix, then one D1 batch flips the tenant to that version and stores the
// (encrypted) secrets, then the meter is told. A failure before the D1 batch leaves only
// unreferenced R2 objects, removed here.
import * as v from "valibot";
import type { IRequest } from "itty-router";
import { ApiError } from "../http/errors.ts";
import { configOf } from "../config/env.ts";
import { json } from "../http/json.ts";
import { validate } from "../http/body.ts";
import {
  FUNCTION_DEFAULT_DURATION_MS,
  FUNCTION_MAX_DURATION_MS,
  HostSchema,
  HttpMethodSchema,
  ProxyHeaderSchema,
  ProxyTransformSchema,
  HttpHeaderNameSchema,
  SecretNameSchema,
  TenantConfigInputSchema,
  TenantConfigPatchSchema,
  type DatasetArtifact,
  type FunctionArtifact,
  type ProxyArtifact,
  type TenantConfig,
} from "../config/tenant-config.ts";
import { loadTenantBySlug, hostsTakenByOthers } from "../tenancy/tenant-store.ts";
import { DatasetError, parseDataset } from "../runtimes/dataset/parse.ts";
import { DATASET_ENGINE_SOURCE } from "../runtimes/generated/dataset-engine.ts";
import { CodeError, instrumentFunctionCode } from "../runtimes/function/instrument.ts";
import { checkUpstreamUrl } from "../runtimes/proxy/ssrf.ts";
import {
  exampleRecord,
  FunctionDiscoveryInput,
  OperationsSchema,
  resolveOperations,
} from "../discovery/declarations.ts";
import { requireCreator } from "./auth.ts";
import { auditStatement } from "./audit.ts";
import { checkTenantConfig, tenantView } from "./tenant-rules.ts";
import { pushMeterConfig } from "./meter-sync.ts";
import { clearSecretsStatement, parseSecretsPart, secretStatements } from "./secrets.ts";
import { deleteArtifacts, guardedSave, originOf, rethrowConflict, slugParam } from "./tenants.ts";
import type { PlatformContext } from "./context.ts";

const MULTIPART_OVERHEAD_BYTES = 256 * 1024;
export const MAX_CODE_BYTES = 5 * 1024 * 1024;

const DatasetResourceInput = v.strictObject({
  type: v.literal("dataset"),
  format: v.optional(v.picklist(["csv", "json"])),
  idField: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))),
});
const FunctionResourceInput = v.strictObject({
  type: v.literal("function"),
  allowedHosts: v.optional(v.pipe(v.array(HostSchema), v.maxLength(50))),
  maxDurationMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(FUNCTION_MAX_DURATION_MS))),
  exposeEnv: v.optional(v.pipe(v.array(SecretNameSchema), v.maxLength(50))),
  ...FunctionDiscoveryInput,
});
const ProxyResourceInput = v.strictObject({
  type: v.literal("proxy"),
  upstream: v.optional(v.pipe(v.string(), v.maxLength(2000))),
  methods: v.optional(v.pipe(v.array(HttpMethodSchema), v.minLength(1), v.maxLength(7))),
  headers: v.optional(v.pipe(v.record(HttpHeaderNameSchema, ProxyHeaderSchema), v.check((h) => Object.keys(h).length <= 20, "at most 20 injected headers"))),
  cacheTtlSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(86_400))),
  transform: v.optional(ProxyTransformSchema),
  allowLoopback: v.optional(v.boolean()),
  operations: v.optional(OperationsSchema),
});

const DeployConfigSchema = v.strictObject({
  ...TenantConfigPatchSchema.entries,
  resource: v.optional(v.variant("type", [DatasetResourceInput, FunctionResourceInput, ProxyResourceInput])),
});
type DeployConfig = v.InferOutput<typeof DeployConfigSchema>;
type ResourceKind = "dataset" | "function" | "proxy";

interface Upload {
  file: File | null;
  code: string | null;
  configJson: string | null;
  secretsJson: string | null;
}

async function readUpload(request: Request, env: Env): Promise<Upload> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("multipart/form-data")) {
    throw new ApiError(415, "unsupported_media_type", "send multipart/form-data: a `file` part (dataset) or a `code` part (function) or neither (proxy), plus `config` (JSON) and optional `secrets` (JSON)");
  }
  const limit = configOf(env).maxDatasetBytes;
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit + MULTIPART_OVERHEAD_BYTES) throw datasetTooLarge(declared, limit);
  // Buffer with a bound, so a body without Content-Length cannot exhaust memory either.
  const body = await request.arrayBuffer();
  if (body.byteLength > limit + MULTIPART_OVERHEAD_BYTES) throw datasetTooLarge(body.byteLength, limit);
  let form: FormData;
  try {
    form = await new Response(body, { headers: { "content-type": type } }).formData();
  } catch {
    throw new ApiError(400, "invalid_multipart", "the multipart body could not be parsed");
  }
  const file = form.get("file");
  if (file !== null && !(file instanceof File)) throw new ApiError(400, "missing_file", "the `file` part must be a file (the dataset)");
  if (file && file.size > limit) throw datasetTooLarge(file.size, limit);
  const codePart = form.get("code");
  let code: string | null = null;
  if (codePart !== null) {
    const size = typeof codePart === "string" ? new TextEncoder().encode(codePart).byteLength : codePart.size;
    if (size > MAX_CODE_BYTES) throw new ApiError(413, "code_too_large", `the code is ${size} bytes; the limit is ${MAX_CODE_BYTES} bytes`, { bytes: size, limit: MAX_CODE_BYTES });
    code = typeof codePart === "string" ? codePart : await codePart.text();
  }
  const config = form.get("config");
  if (config !== null && typeof config !== "string") throw new ApiError(400, "invalid_config", "the `config` part must be a JSON string");
  const secrets = form.get("secrets");
  if (secrets !== null && typeof secrets !== "string") throw new ApiError(400, "invalid_secrets", "the `secrets` part must be a JSON string");
  return { file, code, configJson: config, secretsJson: secrets };
}

function datasetTooLarge(bytes: number, limit: number): ApiError {
  return new ApiError(413, "dataset_too_large", `the dataset is ${bytes} bytes; the limit is ${limit} bytes (${(limit / 1048576).toFixed(0)} MiB)`, { bytes, limit });
}

function formatOf(file: File, declared: "csv" | "json" | undefined): "csv" | "json" {
  if (declared) return declared;
  const name = file.name.toLowerCase();
  if (name.endsWith(".csv") || file.type.includes("csv")) return "csv";
  if (name.endsWith(".json") || file.type.includes("json")) return "json";
  throw new ApiError(400, "unknown_format", "cannot tell the dataset format: name the file *.csv or *.json, or set config.resource.format");
}

/** The kind of this deploy: config.resource.type, else which part was sent, else the tenant's current kind. */
function kindOf(raw: unknown, upload: Upload, previous: TenantConfig | null): ResourceKind {
  const declared = (raw as { resource?: { type?: unknown } } | null)?.resource?.type;
  if (declared === "dataset" || declared === "function" || declared === "proxy") return declared;
  if (upload.code !== null) return "function";
  if (upload.file) return "dataset";
  if (previous) return previous.resourceType;
  throw new ApiError(400, "missing_file", "send a `file` part (dataset), a `code` part (function), or config.resource.type \"proxy\"");
}

function withResourceType(raw: unknown, kind: ResourceKind): unknown {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return raw;
  const resource = (raw as { resource?: unknown }).resource;
  if (!resource || typeof resource !== "object" || Array.isArray(resource) || "type" in resource) return raw;
  return { ...raw, resource: { ...resource, type: kind } };
}

function invalid(path: string, message: string): ApiError {
  return new ApiError(400, "invalid_config", `${path}: ${message}`, [{ path, message }]);
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function functionArtifact(input: DeployConfig["resource"], prev: TenantConfig["resource"] | undefined, prefix: string, source: string, sha256: string): FunctionArtifact {
  const sent = input?.type === "function" ? input : undefined;
  const before = prev?.type === "function" ? prev : undefined;
  const operations = resolveOperations(sent, before?.operations);
  return {
    type: "function",
    allowedHosts: [...new Set(sent?.allowedHosts ?? before?.allowedHosts ?? [])],
    maxDurationMs: sent?.maxDurationMs ?? before?.maxDurationMs ?? FUNCTION_DEFAULT_DURATION_MS,
    exposeEnv: [...new Set(sent?.exposeEnv ?? before?.exposeEnv ?? [])],
    bytes: new TextEncoder().encode(source).byteLength,
    sha256,
    codeKey: `${prefix}user.js`,
    ...(operations ? { operations } : {}),
  };
}

function proxyArtifact(input: DeployConfig["resource"], prev: TenantConfig["resource"] | undefined, env: Env): ProxyArtifact {
  const sent = input?.type === "proxy" ? input : undefined;
  const before = prev?.type === "proxy" ? prev : undefined;
  const upstream = sent?.upstream ?? before?.upstream;
  if (!upstream) throw invalid("resource.upstream", "required: the upstream base URL, e.g. https://api.example.com/v3");
  const allowLoopback = sent?.allowLoopback ?? before?.allowLoopback ?? false;
  const loopbackHonoured = configOf(env).allowLoopbackUpstreams;
  if (allowLoopback && !loopbackHonoured) throw invalid("resource.allowLoopback", "loopback upstreams are a local-development allowance and are not available here");
  const verdict = checkUpstreamUrl(upstream, { allowLoopback });
  if (!verdict.ok) throw new ApiError(400, "unsafe_upstream", `resource.upstream: ${verdict.reason}`, [{ path: "resource.upstream", message: verdict.reason }]);
  const url = verdict.url;
  if (url.search || url.hash || upstream.includes("?") || upstream.includes("#")) throw invalid("resource.upstream", "must not contain a query or fragment");
  const loopback = checkUpstreamUrl(upstream).ok === false;
  if (url.protocol !== "https:" && !loopback) throw invalid("resource.upstream", "must use https (plain http only for a dev loopback upstream)");
  const transform = sent?.transform ?? before?.transform;
  const methods = [...new Set(sent?.methods ?? before?.methods ?? (["GET"] as const))];
  const operations = resolveOperations(sent, before?.operations, methods);
  return {
    type: "proxy",
    upstream: url.toString(),
    methods,
    headers: sent?.headers ?? before?.headers ?? {},
    cacheTtlSeconds: sent?.cacheTtlSeconds ?? before?.cacheTtlSeconds ?? 0,
    ...(transform ? { transform } : {}),
    allowLoopback,
    ...(operations ? { operations } : {}),
  };
}

export async function deployTenant(request: IRequest, pc: PlatformContext): Promise<Response> {
  const principal = await requireCreator(request, pc.env, pc.ctx, "tenants:write");
  const slug = slugParam(request);
  const upload = await readUpload(request, pc.env);
  let rawConfig: unknown = {};
  if (upload.configJson) {
    try {
      rawConfig = JSON.parse(upload.configJson);
    } catch {
      throw new ApiError(400, "invalid_json", "the `config` part is not valid JSON");
    }
  }
  const secrets = parseSecretsPart(upload.secretsJson);

  const existing = await loadTenantBySlug(pc.env.DB, slug);
  if (existing && existing.owner !== principal.creatorId) throw new ApiError(409, "slug_taken", `the slug '${slug}' belongs to another creator`);
  const previous = existing && existing.deletedAt === null ? existing.config : null;
  const kind = kindOf(rawConfig, upload, previous);
  const input = validate(DeployConfigSchema, withResourceType(rawConfig, kind), "config");
  if (previous && previous.resourceType !== kind) throw new ApiError(409, "resource_type_mismatch", `'${slug}' is a ${previous.resourceType}; deploy a ${previous.resourceType} or pick another name`);
  if (kind === "dataset" && !upload.file) throw new ApiError(400, "missing_file", "the `file` part (the dataset) is missing");
  if (kind === "function" && upload.code === null) throw new ApiError(400, "missing_code", "the `code` part (one bundled ES module) is missing");
  if (kind !== "dataset" && upload.file) throw new ApiError(400, "unexpected_part", `a ${kind} deploy takes no \`file\` part`);
  if (kind !== "function" && upload.code !== null) throw new ApiError(400, "unexpected_part", `a ${kind} deploy takes no \`code\` part`);

  // Versions only grow, also across delete + redeploy, so isolate ids and R2 prefixes never repeat.
  const version = (existing?.version ?? 0) + 1;
  const prefix = `tenants/${slug}/v${version}/`;
  const uploads: { key: string; body: string; contentType: string }[] = [];
  let artifact: TenantConfig["resource"];
  let deployment: Record<string, unknown>;
  let auditDetail: Record<string, unknown>;
  if (kind === "dataset") {
    const file = upload.file!;
    const options = input.resource?.type === "dataset" ? input.resource : undefined;
    const format = formatOf(file, options?.format);
    let dataset;
    try {
      dataset = parseDataset(await file.text(), format, options?.idField ? { idField: options.idField } : {});
    } catch (err) {
      if (err instanceof DatasetError) throw new ApiError(422, err.code, err.message, err.details);
      throw err;
    }
    const data: DatasetArtifact = {
      type: "dataset",
      format,
      idField: dataset.schema.idField,
      rows: dataset.schema.rows,
      bytes: file.size,
      dataKey: `${prefix}data.json`,
      codeKey: `${prefix}worker.js`,
      fields: dataset.schema.fields,
    };
    const example = exampleRecord(dataset.schema.fields, dataset.rows[0]);
    if (example) data.example = example;
    artifact = data;
    uploads.push({ key: data.dataKey, body: JSON.stringify(dataset), contentType: "application/json" }, { key: data.codeKey, body: DATASET_ENGINE_SOURCE, contentType: "application/javascript" });
    deployment = { version, rows: data.rows, bytes: data.bytes, format, fields: dataset.schema.fields, idField: data.idField };
    auditDetail = { version, rows: data.rows, bytes: data.bytes, format };
  } else if (kind === "function") {
    const source = upload.code!;
    let instrumented: string;
    try {
      instrumented = instrumentFunctionCode(source);
    } catch (err) {
      if (err instanceof CodeError) throw new ApiError(422, err.code, err.message);
      throw err;
    }
    const fn = functionArtifact(input.resource, previous?.resource, prefix, source, await sha256Hex(source));
    artifact = fn;
    uploads.push({ key: fn.codeKey, body: instrumented, contentType: "application/javascript" });
    deployment = { version, type: "function", bytes: fn.bytes, sha256: fn.sha256, allowedHosts: fn.allowedHosts, maxDurationMs: fn.maxDurationMs, exposeEnv: fn.exposeEnv };
    auditDetail = { version, type: "function", bytes: fn.bytes, sha256: fn.sha256 };
  } else {
    const px = proxyArtifact(input.resource, previous?.resource, pc.env);
    artifact = px;
    deployment = { version, type: "proxy", upstream: px.upstream, methods: px.methods, cacheTtlSeconds: px.cacheTtlSeconds };
    auditDetail = { version, type: "proxy", upstream: px.upstream };
  }

  // Secrets: names only in config; values in tenant_secrets. A redeploy over a deleted tenant starts clean.
  const secretNames = [...new Set([...(previous?.secretNames ?? []), ...Object.keys(secrets)])].sort();
  const needed = artifact.type === "function" ? artifact.exposeEnv : artifact.type === "proxy" ? Object.values(artifact.headers).map((h) => h.secret) : [];
  const missing = [...new Set(needed.filter((name) => !secretNames.includes(name)))];
  if (missing.length) {
    throw new ApiError(400, "missing_secret", `secret${missing.length > 1 ? "s" : ""} ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} referenced but not set: send ${missing.length > 1 ? "them" : "it"} in the \`secrets\` part`, { missing });
  }
  if (Object.keys(secrets).length) auditDetail.secretsSet = Object.keys(secrets).sort();

  const { resource: _resourceOptions, ...settable } = input;
  const base = previous ?? v.parse(TenantConfigInputSchema, {});
  const { resource: _previousResource, secretNames: _previousNames, ...baseSettable } = base as TenantConfig;
  const next: TenantConfig = checkTenantConfig(
    {
      ...baseSettable,
      ...settable,
      slug,
      owner: principal.creatorId,
      resourceType: kind,
      version,
      resource: artifact,
      secretNames,
      createdAt: previous?.createdAt ?? pc.now,
      updatedAt: pc.now,
    },
    pc.env,
    previous,
  );
  const taken = await hostsTakenByOthers(pc.env.DB, slug, next.hosts);
  if (taken.length) throw new ApiError(409, "host_taken", `host already in use: ${taken.join(", ")}`, { hosts: taken });
  const db = pc.env.DB;
  const secretWrites = [...(existing && !previous ? [clearSecretsStatement(db, slug)] : []), ...(await secretStatements(pc.env, db, slug, secrets, pc.now))];

  await Promise.all(uploads.map((u) => pc.env.ARTIFACTS.put(u.key, u.body, { httpMetadata: { contentType: u.contentType } })));
  try {
    await db.batch([
      ...guardedSave(db, next, existing ? existing.version : null),
      ...secretWrites,
      auditStatement(db, {
        actor: principal.keyId,
        action: previous ? "tenant.deploy" : "tenant.create",
        subject: slug,
        requestId: pc.requestId,
        detail: auditDetail,
        now: pc.now,
      }),
    ]);
  } catch (err) {
    if (uploads.length) pc.ctx.waitUntil(pc.env.ARTIFACTS.delete(uploads.map((u) => u.key)));
    rethrowConflict(err);
  }
  await pushMeterConfig(pc.env, next);
  // Keep the previous artifacts too: isolates still serving the previous config finish their calls.
  const keep = new Set([...uploads.map((u) => u.key), ...artifactKeys(previous?.resource)]);
  pc.ctx.waitUntil(deleteArtifacts(pc.env, slug, (key, keyVersion) => keyVersion < version && !keep.has(key)));

  return json({ tenant: tenantView(next, originOf(request)), deployment: { ...deployment, secretNames } }, { status: 201 });
}

function artifactKeys(resource: TenantConfig["resource"] | undefined): string[] {
  if (!resource) return [];
  if (resource.type === "dataset") return [resource.dataKey, resource.codeKey];
  if (resource.type === "function") return [resource.codeKey];
  return [];
}
