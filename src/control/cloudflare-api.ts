// Minimal Cloudflare REST client for Workers for Platforms, run by the control plane (workerd:
// fetch + FormData + Blob only): upload one tenant script to a dispatch namespace.
// PUT {apiBase}/accounts/{account}/workers/dispatch/namespaces/{namespace}/scripts/{name}
// with `Authorization: Bearer <platform token>` and a multipart body: a `metadata` part
// (application/json: {main_module, bindings, compatibility_date, tags}) and one part per module,
// named by its file name, with the module's content type. Secrets travel as `secret_text`
// bindings inside metadata (Cloudflare encrypts them at rest); nothing here logs or returns them.
import { ApiError } from "../http/errors.ts";
import { DEFAULT_CF_API_BASE } from "../config/env.ts";

export const CLOUDFLARE_API_BASE = DEFAULT_CF_API_BASE;
export const CLOUDFLARE_TIMEOUT_MS = 30_000;

export type Binding =
  | { type: "plain_text"; name: string; text: string }
  | { type: "secret_text"; name: string; text: string }
  | { type: "r2_bucket"; name: string; bucket_name: string };

export interface ScriptModule {
  name: string;
  contentType: "application/javascript+module" | "text/plain" | "application/json";
  content: string;
}

export interface ScriptUpload {
  scriptName: string;
  mainModule: string;
  modules: ScriptModule[];
  bindings: Binding[];
  compatibilityDate: string;
  tags: string[];
}

export interface CloudflareTarget {
  apiBase: string;
  accountId: string;
  namespace: string;
  token: string;
}

export function scriptUrl(t: Omit<CloudflareTarget, "token">, scriptName: string): string {
  const enc = encodeURIComponent;
  return `${t.apiBase.replace(/\/+$/, "")}/accounts/${enc(t.accountId)}/workers/dispatch/namespaces/${enc(t.namespace)}/scripts/${enc(scriptName)}`;
}

export function metadataFor(upload: ScriptUpload): Record<string, unknown> {
  return {
    main_module: upload.mainModule,
    bindings: upload.bindings,
    compatibility_date: upload.compatibilityDate,
    tags: upload.tags,
  };
}

export function uploadForm(upload: ScriptUpload): FormData {
  const form = new FormData();
  form.set("metadata", new Blob([JSON.stringify(metadataFor(upload))], { type: "application/json" }), "metadata.json");
  for (const m of upload.modules) form.set(m.name, new Blob([m.content], { type: m.contentType }), m.name);
  return form;
}

export interface CloudflareError {
  code: number | null;
  message: string;
}

/** Uploads the script; Cloudflare's refusals become 502 publish_failed with its codes and messages. */
export async function putDispatchScript(
  target: CloudflareTarget,
  upload: ScriptUpload,
): Promise<{ id?: string; etag?: string; [k: string]: unknown }> {
  const url = scriptUrl(target, upload.scriptName);
  let res: Response;
  try {
    res = await fetch(url, {
      method: "PUT",
      headers: { authorization: `Bearer ${target.token}` },
      body: uploadForm(upload),
      signal: AbortSignal.timeout(CLOUDFLARE_TIMEOUT_MS),
    });
  } catch (err) {
    const timedOut = (err as Error)?.name === "TimeoutError";
    throw new ApiError(
      502,
      "publish_failed",
      timedOut
        ? `the Cloudflare API did not answer within ${CLOUDFLARE_TIMEOUT_MS / 1000} s; retry`
        : "the Cloudflare API could not be reached; retry",
      { status: null, errors: [] },
    );
  }
  const text = await res.text();
  let body: {
    success?: boolean;
    result?: Record<string, unknown>;
    errors?: { code?: unknown; message?: unknown }[];
  } | null = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  if (res.ok && body?.success !== false) return (body?.result as { id?: string; etag?: string }) ?? {};
  const errors: CloudflareError[] = (Array.isArray(body?.errors) ? body!.errors : []).slice(0, 10).map((e) => ({
    code: typeof e?.code === "number" ? e.code : null,
    message: redact(String(e?.message ?? ""), target.token).slice(0, 500),
  }));
  const detail = errors.length
    ? errors.map((e) => `${e.message}${e.code !== null ? ` (code ${e.code})` : ""}`).join("; ")
    : `HTTP ${res.status}`;
  throw new ApiError(
    502,
    "publish_failed",
    `Cloudflare refused the upload of ${upload.scriptName} (HTTP ${res.status}): ${detail}`,
    { status: res.status, errors },
  );
}

function redact(text: string, token: string): string {
  return token ? text.split(token).join("[redacted]") : text;
}
