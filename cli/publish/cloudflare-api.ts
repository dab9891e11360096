// Minimal Cloudflare REST client for Workers for Platforms: upload one tenant script to a dispatch
// namespace. PUT {apiBase}/accounts/{account}/workers/dispatch/namespaces/{namespace}/scripts/{name}
// with `Authorization: Bearer <token>` and a multipart body: a `metadata` part (application/json:
// {main_module, bindings, compatibility_date, tags}) and one part per module, named by its file
// name, with the module's content type (application/javascript+module, text/plain, application/json).
// Secrets travel as `secret_text` bindings inside metadata (encrypted at rest by Cloudflare).
import { CliError, EXIT } from "../errors.ts";

export const CLOUDFLARE_API_BASE = "https://api.cloudflare.com/client/v4";

export type Binding = { type: "plain_text"; name: string; text: string } | { type: "secret_text"; name: string; text: string };

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
  return { main_module: upload.mainModule, bindings: upload.bindings, compatibility_date: upload.compatibilityDate, tags: upload.tags };
}

export function uploadForm(upload: ScriptUpload): FormData {
  const form = new FormData();
  form.set("metadata", new Blob([JSON.stringify(metadataFor(upload))], { type: "application/json" }), "metadata.json");
  for (const m of upload.modules) form.set(m.name, new Blob([m.content], { type: m.contentType }), m.name);
  return form;
}

export async function putDispatchScript(target: CloudflareTarget, upload: ScriptUpload): Promise<{ id?: string; etag?: string; [k: string]: unknown }> {
  const url = scriptUrl(target, upload.scriptName);
  let res: Response;
  try {
    res = await fetch(url, { method: "PUT", headers: { authorization: `Bearer ${target.token}` }, body: uploadForm(upload), signal: AbortSignal.timeout(120_000) });
  } catch (err) {
    throw new CliError(`cannot reach the Cloudflare API at ${target.apiBase} (${(err as Error).message}); check your network or --api-base`, EXIT.unavailable, "cloudflare_unreachable");
  }
  const text = await res.text();
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  if (res.ok && body?.success !== false) return body?.result ?? {};
  const first = body?.errors?.[0];
  const detail = first ? `${first.message} (code ${first.code})` : text.slice(0, 200) || `HTTP ${res.status}`;
  const exit = res.status === 401 || res.status === 403 ? EXIT.auth : res.status === 404 ? EXIT.notFound : res.status === 429 || res.status >= 500 ? EXIT.unavailable : EXIT.usage;
  const next = exit === EXIT.auth ? ": check CLOUDFLARE_API_TOKEN (needs Workers Scripts: Edit on the account)" : exit === EXIT.notFound ? ": check --account and --namespace" : "";
  throw new CliError(`Cloudflare refused the upload of ${upload.scriptName}: ${detail}${next}`, exit, "cloudflare_error", body?.errors);
}
