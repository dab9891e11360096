// Test helpers: drive the real dispatcher (main worker export) the way clients do.
import { exports } from "cloudflare:workers";

export const PLATFORM = "http://localhost";
export const OPERATOR = { authorization: "Bearer test-operator-token" };

export function call(path: string, init: RequestInit & { host?: string } = {}): Promise<Response> {
  const base = init.host ? `https://${init.host}` : PLATFORM;
  return exports.default.fetch(new Request(`${base}${path}`, init));
}

let counter = 0;
export function uniqueSlug(prefix = "t"): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

export async function createCreator(
  name = "Test Creator",
  scopes?: string[],
): Promise<{ id: string; key: string; keyId: string }> {
  const res = await call("/__platform/creators", {
    method: "POST",
    headers: { ...OPERATOR, "content-type": "application/json" },
    body: JSON.stringify({ name, ...(scopes ? { key: { scopes } } : {}) }),
  });
  if (res.status !== 201) throw new Error(`createCreator: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { creator: { id: string }; apiKey: { id: string; key: string } };
  return { id: body.creator.id, key: body.apiKey.key, keyId: body.apiKey.id };
}

export function auth(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

export async function deployDataset(
  key: string,
  slug: string,
  content: string,
  options: { filename?: string; config?: unknown; type?: string } = {},
): Promise<Response> {
  const form = new FormData();
  form.set("file", new File([content], options.filename ?? "data.csv", { type: options.type ?? "text/csv" }));
  if (options.config !== undefined) form.set("config", JSON.stringify(options.config));
  return call(`/v1/tenants/${slug}/deployments`, { method: "POST", headers: auth(key), body: form });
}

export async function deployOk(
  key: string,
  slug: string,
  content: string,
  options: Parameters<typeof deployDataset>[3] = {},
): Promise<any> {
  const res = await deployDataset(key, slug, content, options);
  if (res.status !== 201) throw new Error(`deploy ${slug}: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function expectError(res: Response, status: number, code: string): Promise<any> {
  const body = (await res.json()) as any;
  if (res.status !== status || body?.error?.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${res.status} ${JSON.stringify(body)}`);
  }
  if (typeof body.requestId !== "string" || res.headers.get("x-request-id") !== body.requestId) {
    throw new Error(`error envelope without a matching request id: ${JSON.stringify(body)}`);
  }
  return body;
}

export const CITIES_CSV = `id,city,country,population,capital
1,Paris,FR,2161000,true
2,Lyon,FR,513275,false
3,Berlin,DE,3645000,true
4,Hamburg,DE,1841000,false
5,Zurich,CH,402762,false
`;
