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
import { json } from "../http/json.ts";
import { validate } from "../http/body.ts";
import { TenantConfigInputSchema, type TenantConfig } from "../config/tenant-config.ts";
import { loadTenantBySlug, hostsTakenByOthers } from "../tenancy/tenant-store.ts";
import { requireCreator } from "./auth.ts";
import { auditStatement } from "./audit.ts";
import { checkTenantConfig, tenantView } from "./tenant-rules.ts";
import { pushMeterConfig } from "./meter-sync.ts";
import { clearSecretsStatement, parseSecretsPart, secretStatements } from "./secrets.ts";
import { deleteArtifacts, guardedSave, originOf, rethrowConflict, slugParam } from "./tenants.ts";
import type { PlatformContext } from "./context.ts";
import { artifactKeys, buildArtifacts, missingSecrets } from "./deploy-artifacts.ts";
import {
  checkParts,
  DeployConfigSchema,
  kindOf,
  parseConfigPart,
  readUpload,
  withResourceType,
} from "./deploy-input.ts";

export async function deployTenant(request: IRequest, pc: PlatformContext): Promise<Response> {
  const principal = await requireCreator(request, pc.env, pc.ctx, "tenants:write");
  const slug = slugParam(request);
  const upload = await readUpload(request, pc.env);
  const rawConfig = parseConfigPart(upload.configJson);
  const secrets = parseSecretsPart(upload.secretsJson);

  const existing = await loadTenantBySlug(pc.env.DB, slug);
  if (existing && existing.owner !== principal.creatorId)
    throw new ApiError(409, "slug_taken", `the slug '${slug}' belongs to another creator`);
  const previous = existing && existing.deletedAt === null ? existing.config : null;
  const kind = kindOf(rawConfig, upload, previous);
  const input = validate(DeployConfigSchema, withResourceType(rawConfig, kind), "config");
  if (previous && previous.resourceType !== kind)
    throw new ApiError(
      409,
      "resource_type_mismatch",
      `'${slug}' is a ${previous.resourceType}; deploy a ${previous.resourceType} or pick another name`,
    );
  checkParts(kind, upload);

  // Versions only grow, also across delete + redeploy, so isolate ids and R2 prefixes never repeat.
  const version = (existing?.version ?? 0) + 1;
  const prefix = `tenants/${slug}/v${version}/`;
  const built = await buildArtifacts(kind, input.resource, upload, previous?.resource, prefix, version, pc.env);
  const { artifact, uploads, deployment, auditDetail } = built;
  // Secrets: names only in config; values in tenant_secrets. A redeploy over a deleted tenant starts clean.
  const secretNames = [...new Set([...(previous?.secretNames ?? []), ...Object.keys(secrets)])].sort();
  const missing = missingSecrets(artifact, secretNames);
  if (missing.length) {
    throw new ApiError(
      400,
      "missing_secret",
      `secret${missing.length > 1 ? "s" : ""} ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} referenced but not set: send ${missing.length > 1 ? "them" : "it"} in the \`secrets\` part`,
      { missing },
    );
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
  const secretWrites = [
    ...(existing && !previous ? [clearSecretsStatement(db, slug)] : []),
    ...(await secretStatements(pc.env, db, slug, secrets, pc.now)),
  ];

  await Promise.all(
    uploads.map((u) => pc.env.ARTIFACTS.put(u.key, u.body, { httpMetadata: { contentType: u.contentType } })),
  );
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

  return json(
    { tenant: tenantView(next, originOf(request)), deployment: { ...deployment, secretNames } },
    { status: 201 },
  );
}
