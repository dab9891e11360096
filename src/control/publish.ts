// POST /v1/tenants/:slug/publish (creator key, tenants:write; body {dryRun?: boolean}): the control
// plane uploads the tenant's current version to the Workers for Platforms dispatch namespace as
// script `tenant-<slug>`, with the platform's Cloudflare token (CF_API_TOKEN). Creators hold only
// their 402claw key. What is uploaded comes from R2, exactly as the Worker Loader runs it:
// - function: our wrapper (budget = min(maxDurationMs, plan cpuMs)), the budget module and the
//   stored, already-instrumented creator module; env = the exposeEnv secrets (as secret_text).
// - dataset: the stored dataset engine behind a small main module that hands the engine a DATASET
//   fetcher reading the stored normalized data from the platform's R2 bucket (bound read-only by
//   name, key as a plain_text binding): no size limit from the script, the same data the loader
//   serves. Only dataset scripts get the binding, and their code is the platform's engine, never
//   creator code.
// - proxy: refused (its runtime lives in the dispatcher, not in a tenant script).
// Secret values go only into the request to Cloudflare; responses and the audit row carry names.
import * as v from "valibot";
import type { IRequest } from "itty-router";
import { ApiError } from "../http/errors.ts";
import { configOf } from "../config/env.ts";
import { json } from "../http/json.ts";
import { readJson } from "../http/body.ts";
import type { TenantConfig } from "../config/tenant-config.ts";
import { tenantRuntimeLimits } from "../config/plans.ts";
import { TENANT_COMPATIBILITY_DATE } from "../config/compat.ts";
import { BUDGET_MODULE, BUDGET_SOURCE, USER_MODULE, ticksFor, wrapperSource } from "../runtimes/function/instrument.ts";
import { scriptNameFor } from "../runtimes/dispatch-runtime.ts";
import { requireCreator } from "./auth.ts";
import { auditStatement } from "./audit.ts";
import { readSecrets } from "./secrets.ts";
import { ownedTenant, slugParam } from "./tenants.ts";
import {
  metadataFor,
  putDispatchScript,
  scriptUrl,
  type Binding,
  type ScriptModule,
  type ScriptUpload,
} from "./cloudflare-api.ts";
import type { PlatformContext } from "./context.ts";

const WRAPPER_MODULE = "claw-wrapper.js";

const PublishBodySchema = v.strictObject({ dryRun: v.optional(v.boolean()) });

const DATASET_MAIN = `// 402claw dataset tenant: the platform's dataset engine over the data in the platform's R2 bucket.
import engine from "./engine.js";
export default {
  fetch(request, env, ctx) {
    const DATASET = {
      fetch: async () => {
        const object = await env.DATA_BUCKET.get(env.DATA_KEY);
        return object ? new Response(object.body, { headers: { "content-type": "application/json" } }) : new Response("dataset not found", { status: 404 });
      },
    };
    return engine.fetch(request, { DATASET }, ctx);
  },
};
`;

interface PublishTarget {
  apiBase: string;
  accountId: string;
  namespace: string;
  token: string;
}

/**
 * Where a publish goes. A dry run needs no Cloudflare settings (it sends nothing): missing values
 * become `unset-<NAME>` placeholders in the plan and are listed in `missing`; a real publish refuses.
 */
function publishTarget(env: Env, dryRun: boolean): PublishTarget & { missing: string[] } {
  const cf = configOf(env).cloudflare;
  const { accountId, dispatchNamespace: namespace, apiToken: token } = cf;
  const missing = [
    !accountId && "CF_ACCOUNT_ID",
    !namespace && "CF_DISPATCH_NAMESPACE",
    !token && "CF_API_TOKEN",
  ].filter((m): m is string => Boolean(m));
  if (missing.length && !dryRun) {
    const message = `publishing to Workers for Platforms is not configured on this platform (${missing.join(", ")} missing)`;
    throw new ApiError(503, "publishing_unavailable", message);
  }
  return {
    apiBase: cf.apiBase,
    accountId: accountId ?? "unset-CF_ACCOUNT_ID",
    namespace: namespace ?? "unset-CF_DISPATCH_NAMESPACE",
    token: token ?? "",
    missing,
  };
}

async function artifactText(env: Env, key: string, slug: string): Promise<string> {
  const obj = await env.ARTIFACTS.get(key);
  if (!obj)
    throw new ApiError(
      409,
      "artifact_missing",
      `the stored artifact of '${slug}' is missing (${key}); redeploy it, then publish`,
    );
  return obj.text();
}

/** The upload for the tenant's current version (secret values included: never return it as is). */
async function buildUpload(env: Env, tenant: TenantConfig): Promise<ScriptUpload> {
  const { resource, slug, version } = tenant;
  let modules: ScriptModule[];
  let mainModule: string;
  let secretNames: string[] = [];
  if (resource.type === "proxy") {
    throw new ApiError(
      422,
      "publish_unsupported",
      `'${slug}' is a proxy: proxies run inside the platform's dispatcher (secret header injection, caching, transforms), not as a tenant script, so there is nothing to publish`,
    );
  }
  let extraBindings: Binding[] = [];
  if (resource.type === "dataset") {
    const head = await env.ARTIFACTS.head(resource.dataKey);
    if (!head)
      throw new ApiError(
        409,
        "artifact_missing",
        `the stored data of '${slug}' is missing (${resource.dataKey}); redeploy it, then publish`,
      );
    mainModule = "index.js";
    modules = [
      { name: "index.js", contentType: "application/javascript+module", content: DATASET_MAIN },
      {
        name: "engine.js",
        contentType: "application/javascript+module",
        content: await artifactText(env, resource.codeKey, slug),
      },
    ];
    // The R2 bucket holding tenant artifacts, as named in wrangler.jsonc (override: ARTIFACTS_BUCKET_NAME).
    const bucket = configOf(env).cloudflare.artifactsBucket;
    extraBindings = [
      { type: "r2_bucket", name: "DATA_BUCKET", bucket_name: bucket },
      { type: "plain_text", name: "DATA_KEY", text: resource.dataKey },
    ];
  } else {
    const limits = tenantRuntimeLimits(tenant);
    mainModule = WRAPPER_MODULE;
    modules = [
      {
        name: WRAPPER_MODULE,
        contentType: "application/javascript+module",
        content: wrapperSource(ticksFor(Math.min(resource.maxDurationMs, limits.cpuMs))),
      },
      { name: BUDGET_MODULE, contentType: "application/javascript+module", content: BUDGET_SOURCE },
      {
        name: USER_MODULE,
        contentType: "application/javascript+module",
        content: await artifactText(env, resource.codeKey, slug),
      },
    ];
    // Exactly what the loader gives the function: its exposeEnv secrets, nothing else.
    secretNames = [...resource.exposeEnv];
  }
  const values = await readSecrets(env, slug, secretNames);
  const missing = secretNames.filter((n) => values[n] === undefined);
  if (missing.length)
    throw new ApiError(
      400,
      "missing_secret",
      `secret${missing.length > 1 ? "s" : ""} ${missing.join(", ")} of '${slug}' ${missing.length > 1 ? "are" : "is"} not stored; redeploy with them, then publish`,
      { missing },
    );
  const bindings: Binding[] = [
    ...secretNames.map((name): Binding => ({ type: "secret_text", name, text: values[name]! })),
    { type: "plain_text", name: "TENANT_SLUG", text: slug },
    { type: "plain_text", name: "TENANT_VERSION", text: String(version) },
    ...extraBindings,
  ];
  return {
    scriptName: scriptNameFor(tenant),
    mainModule,
    modules,
    bindings,
    compatibilityDate: TENANT_COMPATIBILITY_DATE,
    tags: [`tenant:${slug}`, `owner:${tenant.owner}`, `v${version}`],
  };
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The plan as shown to the creator: no secret values, no token. */
async function describePlan(upload: ScriptUpload, target: PublishTarget): Promise<Record<string, unknown>> {
  const metadata = metadataFor(upload);
  return {
    method: "PUT",
    url: scriptUrl(target, upload.scriptName),
    namespace: target.namespace,
    scriptName: upload.scriptName,
    metadata: {
      ...metadata,
      bindings: upload.bindings.map((b) => (b.type === "secret_text" ? { type: b.type, name: b.name } : b)),
    },
    modules: await Promise.all(
      upload.modules.map(async (m) => ({
        name: m.name,
        contentType: m.contentType,
        bytes: new TextEncoder().encode(m.content).byteLength,
        sha256: await sha256Hex(m.content),
      })),
    ),
  };
}

export async function publishTenant(request: IRequest, pc: PlatformContext): Promise<Response> {
  const principal = await requireCreator(request, pc.env, pc.ctx, "tenants:write");
  const slug = slugParam(request);
  const body = await readJson(request, PublishBodySchema, "body");
  const tenant = await ownedTenant(pc, principal.creatorId, slug);
  const dryRun = body.dryRun === true;
  const target = publishTarget(pc.env, dryRun);
  const upload = await buildUpload(pc.env, tenant);
  const plan = await describePlan(upload, target);
  if (dryRun)
    return json({
      dryRun: true,
      slug,
      version: tenant.version,
      plan,
      ...(target.missing.length ? { missingSettings: target.missing } : {}),
    });
  let result: { id?: string; etag?: string; [k: string]: unknown } = {};
  let failure: ApiError | null = null;
  try {
    result = await putDispatchScript(target, upload);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    failure = err;
  }
  await auditStatement(pc.env.DB, {
    actor: principal.keyId,
    action: "tenant.publish",
    subject: slug,
    requestId: pc.requestId,
    detail: {
      version: tenant.version,
      scriptName: upload.scriptName,
      namespace: target.namespace,
      ok: failure === null,
      ...(failure ? { error: failure.details } : { etag: typeof result.etag === "string" ? result.etag : null }),
      secretNames: upload.bindings.filter((b) => b.type === "secret_text").map((b) => b.name),
    },
    now: pc.now,
  }).run();
  if (failure) throw failure;
  return json({
    dryRun: false,
    slug,
    version: tenant.version,
    plan,
    result: {
      id: typeof result.id === "string" ? result.id : null,
      etag: typeof result.etag === "string" ? result.etag : null,
    },
  });
}
