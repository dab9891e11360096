// What a deploy produces (docs/ARCHITECTURE.md §5): the artifact of each resource kind (a parsed
// dataset, an instrumented function bundle, a checked proxy upstream), the R2 objects it needs, and
// the secret names it references.
import { ApiError } from "../http/errors.ts";
import { configOf } from "../config/env.ts";
import {
  FUNCTION_DEFAULT_DURATION_MS,
  type DatasetArtifact,
  type FunctionArtifact,
  type ProxyArtifact,
  type TenantConfig,
} from "../config/tenant-config.ts";
import { DatasetError, parseDataset } from "../runtimes/dataset/parse.ts";
import { DATASET_ENGINE_SOURCE } from "../runtimes/generated/dataset-engine.ts";
import { CodeError, instrumentFunctionCode } from "../runtimes/function/instrument.ts";
import { checkUpstreamUrl } from "../runtimes/proxy/ssrf.ts";
import { exampleRecord, resolveOperations } from "../discovery/declarations.ts";
import type { DeployConfig, ResourceKind, Upload } from "./deploy-input.ts";

function formatOf(file: File, declared: "csv" | "json" | undefined): "csv" | "json" {
  if (declared) return declared;
  const name = file.name.toLowerCase();
  if (name.endsWith(".csv") || file.type.includes("csv")) return "csv";
  if (name.endsWith(".json") || file.type.includes("json")) return "json";
  throw new ApiError(
    400,
    "unknown_format",
    "cannot tell the dataset format: name the file *.csv or *.json, or set config.resource.format",
  );
}

function invalid(path: string, message: string): ApiError {
  return new ApiError(400, "invalid_config", `${path}: ${message}`, [{ path, message }]);
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function functionArtifact(
  input: DeployConfig["resource"],
  prev: TenantConfig["resource"] | undefined,
  prefix: string,
  source: string,
  sha256: string,
): FunctionArtifact {
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

function proxyArtifact(
  input: DeployConfig["resource"],
  prev: TenantConfig["resource"] | undefined,
  env: Env,
): ProxyArtifact {
  const sent = input?.type === "proxy" ? input : undefined;
  const before = prev?.type === "proxy" ? prev : undefined;
  const upstream = sent?.upstream ?? before?.upstream;
  if (!upstream) throw invalid("resource.upstream", "required: the upstream base URL, e.g. https://api.example.com/v3");
  const allowLoopback = sent?.allowLoopback ?? before?.allowLoopback ?? false;
  const loopbackHonoured = configOf(env).allowLoopbackUpstreams;
  if (allowLoopback && !loopbackHonoured)
    throw invalid(
      "resource.allowLoopback",
      "loopback upstreams are a local-development allowance and are not available here",
    );
  const verdict = checkUpstreamUrl(upstream, { allowLoopback });
  if (!verdict.ok)
    throw new ApiError(400, "unsafe_upstream", `resource.upstream: ${verdict.reason}`, [
      { path: "resource.upstream", message: verdict.reason },
    ]);
  const url = verdict.url;
  if (url.search || url.hash || upstream.includes("?") || upstream.includes("#"))
    throw invalid("resource.upstream", "must not contain a query or fragment");
  const loopback = checkUpstreamUrl(upstream).ok === false;
  if (url.protocol !== "https:" && !loopback)
    throw invalid("resource.upstream", "must use https (plain http only for a dev loopback upstream)");
  const transform = sent?.transform ?? before?.transform;
  const charge = sent?.charge ?? before?.charge;
  const methods = [...new Set(sent?.methods ?? before?.methods ?? (["GET"] as const))];
  const operations = resolveOperations(sent, before?.operations, methods);
  return {
    type: "proxy",
    upstream: url.toString(),
    methods,
    headers: sent?.headers ?? before?.headers ?? {},
    cacheTtlSeconds: sent?.cacheTtlSeconds ?? before?.cacheTtlSeconds ?? 0,
    ...(transform ? { transform } : {}),
    ...(charge ? { charge } : {}),
    allowLoopback,
    ...(operations ? { operations } : {}),
  };
}

export function artifactKeys(resource: TenantConfig["resource"] | undefined): string[] {
  if (!resource) return [];
  if (resource.type === "dataset") return [resource.dataKey, resource.codeKey];
  if (resource.type === "function") return [resource.codeKey];
  return [];
}

export interface BuiltArtifacts {
  artifact: TenantConfig["resource"];
  uploads: { key: string; body: string; contentType: string }[];
  deployment: Record<string, unknown>;
  auditDetail: Record<string, unknown>;
}

/** The artifact of a deploy of `kind`, the R2 objects it needs and what the answer and audit say. */
export async function buildArtifacts(
  kind: ResourceKind,
  resource: DeployConfig["resource"],
  upload: Upload,
  prev: TenantConfig["resource"] | undefined,
  prefix: string,
  version: number,
  env: Env,
): Promise<BuiltArtifacts> {
  if (kind === "dataset") return datasetArtifacts(resource, upload.file!, prefix, version);
  if (kind === "function") return functionArtifacts(resource, upload.code!, prev, prefix, version);
  const px = proxyArtifact(resource, prev, env);
  return {
    artifact: px,
    uploads: [],
    deployment: {
      version,
      type: "proxy",
      upstream: px.upstream,
      methods: px.methods,
      cacheTtlSeconds: px.cacheTtlSeconds,
    },
    auditDetail: { version, type: "proxy", upstream: px.upstream },
  };
}

async function datasetArtifacts(
  resource: DeployConfig["resource"],
  file: File,
  prefix: string,
  version: number,
): Promise<BuiltArtifacts> {
  const options = resource?.type === "dataset" ? resource : undefined;
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
  return {
    artifact: data,
    uploads: [
      { key: data.dataKey, body: JSON.stringify(dataset), contentType: "application/json" },
      { key: data.codeKey, body: DATASET_ENGINE_SOURCE, contentType: "application/javascript" },
    ],
    deployment: {
      version,
      rows: data.rows,
      bytes: data.bytes,
      format,
      fields: dataset.schema.fields,
      idField: data.idField,
    },
    auditDetail: { version, rows: data.rows, bytes: data.bytes, format },
  };
}

async function functionArtifacts(
  resource: DeployConfig["resource"],
  source: string,
  prev: TenantConfig["resource"] | undefined,
  prefix: string,
  version: number,
): Promise<BuiltArtifacts> {
  let instrumented: string;
  try {
    instrumented = instrumentFunctionCode(source);
  } catch (err) {
    if (err instanceof CodeError) throw new ApiError(422, err.code, err.message);
    throw err;
  }
  const fn = functionArtifact(resource, prev, prefix, source, await sha256Hex(source));
  const { bytes, sha256, allowedHosts, maxDurationMs, exposeEnv } = fn;
  return {
    artifact: fn,
    uploads: [{ key: fn.codeKey, body: instrumented, contentType: "application/javascript" }],
    deployment: { version, type: "function", bytes, sha256, allowedHosts, maxDurationMs, exposeEnv },
    auditDetail: { version, type: "function", bytes, sha256 },
  };
}

/** Secret names the artifact references that the tenant does not have. */
export function missingSecrets(artifact: TenantConfig["resource"], secretNames: readonly string[]): string[] {
  let needed: string[] = [];
  if (artifact.type === "function") needed = artifact.exposeEnv;
  else if (artifact.type === "proxy") needed = Object.values(artifact.headers).map((h) => h.secret);
  return [...new Set(needed.filter((name) => !secretNames.includes(name)))];
}
