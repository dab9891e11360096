// The input of a deploy (docs/ARCHITECTURE.md §5): the multipart upload, bounded by the dataset
// and code limits, the `config` part and its schema per resource kind, and which parts a kind takes.
import * as v from "valibot";
import { ApiError } from "../http/errors.ts";
import { configOf } from "../config/env.ts";
import {
  FUNCTION_MAX_DURATION_MS,
  HostSchema,
  HttpMethodSchema,
  ProxyChargeSchema,
  ProxyHeaderSchema,
  ProxyTransformSchema,
  HttpHeaderNameSchema,
  SecretNameSchema,
  TenantConfigPatchSchema,
  type TenantConfig,
} from "../config/tenant-config.ts";
import { FunctionDiscoveryInput, OperationsSchema } from "../discovery/declarations.ts";

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
  headers: v.optional(
    v.pipe(
      v.record(HttpHeaderNameSchema, ProxyHeaderSchema),
      v.check((h) => Object.keys(h).length <= 20, "at most 20 injected headers"),
    ),
  ),
  cacheTtlSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(86_400))),
  transform: v.optional(ProxyTransformSchema),
  charge: v.optional(ProxyChargeSchema),
  allowLoopback: v.optional(v.boolean()),
  operations: v.optional(OperationsSchema),
});

export const DeployConfigSchema = v.strictObject({
  ...TenantConfigPatchSchema.entries,
  resource: v.optional(v.variant("type", [DatasetResourceInput, FunctionResourceInput, ProxyResourceInput])),
});
export type DeployConfig = v.InferOutput<typeof DeployConfigSchema>;
export type ResourceKind = "dataset" | "function" | "proxy";

export interface Upload {
  file: File | null;
  code: string | null;
  configJson: string | null;
  secretsJson: string | null;
}

export async function readUpload(request: Request, env: Env): Promise<Upload> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("multipart/form-data")) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      "send multipart/form-data: a `file` part (dataset) or a `code` part (function) or neither (proxy), plus `config` (JSON) and optional `secrets` (JSON)",
    );
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
  if (file !== null && !(file instanceof File))
    throw new ApiError(400, "missing_file", "the `file` part must be a file (the dataset)");
  if (file && file.size > limit) throw datasetTooLarge(file.size, limit);
  const codePart = form.get("code");
  let code: string | null = null;
  if (codePart !== null) {
    const size = typeof codePart === "string" ? new TextEncoder().encode(codePart).byteLength : codePart.size;
    if (size > MAX_CODE_BYTES)
      throw new ApiError(413, "code_too_large", `the code is ${size} bytes; the limit is ${MAX_CODE_BYTES} bytes`, {
        bytes: size,
        limit: MAX_CODE_BYTES,
      });
    code = typeof codePart === "string" ? codePart : await codePart.text();
  }
  const config = form.get("config");
  if (config !== null && typeof config !== "string")
    throw new ApiError(400, "invalid_config", "the `config` part must be a JSON string");
  const secrets = form.get("secrets");
  if (secrets !== null && typeof secrets !== "string")
    throw new ApiError(400, "invalid_secrets", "the `secrets` part must be a JSON string");
  return { file, code, configJson: config, secretsJson: secrets };
}

function datasetTooLarge(bytes: number, limit: number): ApiError {
  return new ApiError(
    413,
    "dataset_too_large",
    `the dataset is ${bytes} bytes; the limit is ${limit} bytes (${(limit / 1048576).toFixed(0)} MiB)`,
    { bytes, limit },
  );
}

/** The kind of this deploy: config.resource.type, else which part was sent, else the tenant's current kind. */
export function kindOf(raw: unknown, upload: Upload, previous: TenantConfig | null): ResourceKind {
  const declared = (raw as { resource?: { type?: unknown } } | null)?.resource?.type;
  if (declared === "dataset" || declared === "function" || declared === "proxy") return declared;
  if (upload.code !== null) return "function";
  if (upload.file) return "dataset";
  if (previous) return previous.resourceType;
  throw new ApiError(
    400,
    "missing_file",
    'send a `file` part (dataset), a `code` part (function), or config.resource.type "proxy"',
  );
}

export function withResourceType(raw: unknown, kind: ResourceKind): unknown {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return raw;
  const resource = (raw as { resource?: unknown }).resource;
  if (!resource || typeof resource !== "object" || Array.isArray(resource) || "type" in resource) return raw;
  return { ...raw, resource: { ...resource, type: kind } };
}

/** The parts a deploy of `kind` must and must not have. */
export function checkParts(kind: ResourceKind, upload: Upload): void {
  if (kind === "dataset" && !upload.file)
    throw new ApiError(400, "missing_file", "the `file` part (the dataset) is missing");
  if (kind === "function" && upload.code === null)
    throw new ApiError(400, "missing_code", "the `code` part (one bundled ES module) is missing");
  if (kind !== "dataset" && upload.file)
    throw new ApiError(400, "unexpected_part", `a ${kind} deploy takes no \`file\` part`);
  if (kind !== "function" && upload.code !== null)
    throw new ApiError(400, "unexpected_part", `a ${kind} deploy takes no \`code\` part`);
}

/** The `config` part as JSON ({} when absent). */
export function parseConfigPart(text: string | null): unknown {
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "invalid_json", "the `config` part is not valid JSON");
  }
}
