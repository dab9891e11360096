// `claw wrap --openapi <file|url>`: reads the upstream's OpenAPI document (JSON, or YAML through
// the `yaml` package) from a file or an http(s) URL, and turns it into `resource.operations`
// (cli/deploy/openapi.ts). Any problem is one usage error (exit 2) before anything is sent.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { usageError } from "../core/errors.ts";
import { OpenApiError, operationsFromOpenApi, type Converted } from "./openapi.ts";

const MAX_DOCUMENT_BYTES = 8 * 1024 * 1024;

async function readSource(source: string, cwd: string): Promise<string> {
  if (/^https?:\/\//i.test(source)) {
    let res: Response;
    try {
      const headers = { accept: "application/json, application/yaml;q=0.9" };
      res = await fetch(source, { headers, signal: AbortSignal.timeout(20_000) });
    } catch (err) {
      throw usageError(`--openapi ${source}: cannot fetch it (${(err as Error).message})`, "openapi_unreadable");
    }
    if (!res.ok) throw usageError(`--openapi ${source}: HTTP ${res.status}`, "openapi_unreadable");
    const text = await res.text();
    if (text.length > MAX_DOCUMENT_BYTES) {
      throw usageError(`--openapi ${source}: larger than 8 MiB`, "openapi_unreadable");
    }
    return text;
  }
  try {
    return readFileSync(resolve(cwd, source), "utf8");
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw usageError(`--openapi ${source}: cannot read it (${why})`, "openapi_unreadable");
  }
}

/** JSON first (the common case, exact errors); otherwise YAML, a superset of JSON. */
export function parseDocument(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    try {
      return parseYaml(text, { maxAliasCount: 100 });
    } catch (err) {
      const why = (err as Error).message.split("\n")[0];
      throw usageError(`--openapi ${source}: neither JSON nor YAML (${why})`, "invalid_openapi");
    }
  }
}

export async function loadOperations(
  source: string,
  allowed: readonly string[],
  cwd = process.cwd(),
): Promise<Converted> {
  const doc = parseDocument(await readSource(source, cwd), source);
  try {
    return operationsFromOpenApi(doc, allowed);
  } catch (err) {
    if (err instanceof OpenApiError) throw usageError(`--openapi ${source}: ${err.message}`, "invalid_openapi");
    throw err;
  }
}
