// POST /v1/tenants/:slug/deployments: a dataset upload (multipart `file` + optional `config` JSON)
// becomes a new tenant version. Order matters for "nothing half-deployed": artifacts go to R2
// under a fresh version prefix first, then one D1 batch flips the tenant to that version, then
// the meter is told. A failure before the D1 batch leaves only unreferenced R2 objects, removed here.
import * as v from "valibot";
import type { IRequest } from "itty-router";
import { ApiError } from "../http/errors.ts";
import { json } from "../http/json.ts";
import { validate } from "../http/body.ts";
import { TenantConfigInputSchema, TenantConfigPatchSchema, type DatasetArtifact, type TenantConfig } from "../config/tenant-config.ts";
import { loadTenantBySlug, hostsTakenByOthers } from "../tenancy/tenant-store.ts";
import { DatasetError, parseDataset } from "../runtimes/dataset/parse.ts";
import { DATASET_ENGINE_SOURCE } from "../runtimes/generated/dataset-engine.ts";
import { requireCreator } from "./auth.ts";
import { auditStatement } from "./audit.ts";
import { checkTenantConfig, tenantView } from "./tenant-rules.ts";
import { pushMeterConfig } from "./meter-sync.ts";
import { deleteArtifacts, guardedSave, originOf, rethrowConflict, slugParam } from "./tenants.ts";
import type { PlatformContext } from "./context.ts";

const MULTIPART_OVERHEAD_BYTES = 256 * 1024;

const DeployConfigSchema = v.strictObject({
  ...TenantConfigPatchSchema.entries,
  resource: v.optional(
    v.strictObject({
      type: v.optional(v.literal("dataset"), "dataset"),
      format: v.optional(v.picklist(["csv", "json"])),
      idField: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))),
    }),
  ),
});

function maxDatasetBytes(env: Env): number {
  const n = Number(env.MAX_DATASET_BYTES);
  return Number.isFinite(n) && n > 0 ? n : 25 * 1024 * 1024;
}

async function readUpload(request: Request, env: Env): Promise<{ file: File; configJson: string | null }> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("multipart/form-data")) {
    throw new ApiError(415, "unsupported_media_type", "send multipart/form-data with a `file` part (the CSV or JSON dataset) and an optional `config` part (JSON)");
  }
  const limit = maxDatasetBytes(env);
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
  if (!(file instanceof File)) throw new ApiError(400, "missing_file", "the `file` part (the dataset) is missing");
  if (file.size > limit) throw datasetTooLarge(file.size, limit);
  const config = form.get("config");
  if (config !== null && typeof config !== "string") throw new ApiError(400, "invalid_config", "the `config` part must be a JSON string");
  return { file, configJson: config };
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

export async function deployTenant(request: IRequest, pc: PlatformContext): Promise<Response> {
  const principal = await requireCreator(request, pc.env, pc.ctx, "tenants:write");
  const slug = slugParam(request);
  const { file, configJson } = await readUpload(request, pc.env);
  let rawConfig: unknown = {};
  if (configJson) {
    try {
      rawConfig = JSON.parse(configJson);
    } catch {
      throw new ApiError(400, "invalid_json", "the `config` part is not valid JSON");
    }
  }
  const input = validate(DeployConfigSchema, rawConfig, "config");

  const existing = await loadTenantBySlug(pc.env.DB, slug);
  if (existing && existing.owner !== principal.creatorId) throw new ApiError(409, "slug_taken", `the slug '${slug}' belongs to another creator`);
  const previous = existing && existing.deletedAt === null ? existing.config : null;
  if (previous && previous.resourceType !== "dataset") throw new ApiError(409, "resource_type_mismatch", `'${slug}' is a ${previous.resourceType}; deploy a ${previous.resourceType} or pick another name`);

  const format = formatOf(file, input.resource?.format);
  const text = await file.text();
  let dataset;
  try {
    dataset = parseDataset(text, format, input.resource?.idField ? { idField: input.resource.idField } : {});
  } catch (err) {
    if (err instanceof DatasetError) throw new ApiError(422, err.code, err.message, err.details);
    throw err;
  }

  // Versions only grow, also across delete + redeploy, so isolate ids and R2 prefixes never repeat.
  const version = (existing?.version ?? 0) + 1;
  const prefix = `tenants/${slug}/v${version}/`;
  const artifact: DatasetArtifact = {
    type: "dataset",
    format,
    idField: dataset.schema.idField,
    rows: dataset.schema.rows,
    bytes: file.size,
    dataKey: `${prefix}data.json`,
    codeKey: `${prefix}worker.js`,
  };
  const { resource: _resourceOptions, ...settable } = input;
  const base = previous ?? v.parse(TenantConfigInputSchema, {});
  const { resource: _previousResource, ...baseSettable } = base;
  const next: TenantConfig = checkTenantConfig(
    {
      ...baseSettable,
      ...settable,
      slug,
      owner: principal.creatorId,
      resourceType: "dataset",
      version,
      resource: artifact,
      createdAt: previous?.createdAt ?? pc.now,
      updatedAt: pc.now,
    },
    pc.env,
    previous,
  );
  const taken = await hostsTakenByOthers(pc.env.DB, slug, next.hosts);
  if (taken.length) throw new ApiError(409, "host_taken", `host already in use: ${taken.join(", ")}`, { hosts: taken });

  await Promise.all([
    pc.env.ARTIFACTS.put(artifact.dataKey, JSON.stringify(dataset), { httpMetadata: { contentType: "application/json" } }),
    pc.env.ARTIFACTS.put(artifact.codeKey, DATASET_ENGINE_SOURCE, { httpMetadata: { contentType: "application/javascript" } }),
  ]);
  const db = pc.env.DB;
  try {
    await db.batch([
      ...guardedSave(db, next, existing ? existing.version : null),
      auditStatement(db, {
        actor: principal.keyId,
        action: previous ? "tenant.deploy" : "tenant.create",
        subject: slug,
        requestId: pc.requestId,
        detail: { version, rows: artifact.rows, bytes: artifact.bytes, format },
        now: pc.now,
      }),
    ]);
  } catch (err) {
    pc.ctx.waitUntil(pc.env.ARTIFACTS.delete([artifact.dataKey, artifact.codeKey]));
    rethrowConflict(err);
  }
  await pushMeterConfig(pc.env, next);
  // Keep the previous artifacts too: isolates still serving the previous config finish their calls.
  const keep = new Set([artifact.dataKey, artifact.codeKey, previous?.resource.dataKey, previous?.resource.codeKey]);
  pc.ctx.waitUntil(deleteArtifacts(pc.env, slug, (key, keyVersion) => keyVersion < version && !keep.has(key)));

  return json(
    {
      tenant: tenantView(next, originOf(request)),
      deployment: { version, rows: artifact.rows, bytes: artifact.bytes, format, fields: dataset.schema.fields, idField: artifact.idField },
    },
    { status: 201 },
  );
}
