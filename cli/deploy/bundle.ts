// Function deploys: the user's JS/TS entry is bundled by esbuild into ONE ES module for workerd
// (format esm, platform neutral, conditions workerd/worker/browser, target es2022, everything
// bundled; TypeScript handled by esbuild). Its `export const config = { allowedHosts, maxDuration,
// exposeEnv }` is read by importing the bundle in a separate Node process (no env vars, 10 s
// timeout), not by parsing source: the value may be computed or imported, and a static read would
// silently miss it. Module top-level code of a Worker must not do I/O anyway.
// maxDuration: milliseconds as a number, or a string "500ms" | "10s" | "1m"; default 10 s.
// `input` / `output` / `operations` (discovery schemas) are read the same way: function-discovery.ts.
import { build, type Message } from "esbuild";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { CliError, EXIT, usageError } from "../core/errors.ts";
import { functionDiscovery, type FunctionDiscovery } from "./function-discovery.ts";

export interface FunctionResource extends FunctionDiscovery {
  type: "function";
  allowedHosts: string[];
  maxDurationMs: number;
  exposeEnv: string[];
}

export const DEFAULT_MAX_DURATION_MS = 10_000;

export async function bundleFunction(entry: string): Promise<{ code: string; bytes: number; warnings: string[] }> {
  let result;
  try {
    result = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      conditions: ["workerd", "worker", "browser"],
      mainFields: ["module", "browser", "main"],
      external: ["cloudflare:*", "node:*"],
      logLevel: "silent",
      legalComments: "none",
    });
  } catch (err) {
    const errors = ((err as { errors?: Message[] }).errors ?? []).map(formatMessage);
    throw new CliError(
      `bundling ${entry} failed: ${errors[0] ?? (err as Error).message}${errors.length > 1 ? ` (+${errors.length - 1} more)` : ""}`,
      EXIT.usage,
      "bundle_failed",
      errors,
    );
  }
  const code = result.outputFiles[0]!.text;
  return { code, bytes: Buffer.byteLength(code), warnings: result.warnings.map(formatMessage) };
}

function formatMessage(m: Message): string {
  return m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : m.text;
}

/** Imports the bundle in a child Node process and returns its `config` export (or null). */
export async function readExportedConfig(code: string): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), "claw-fn-"));
  const file = join(dir, "bundle.mjs");
  writeFileSync(file, code);
  const probe = `const m = await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(JSON.stringify(m.config === undefined ? null : m.config));`;
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ["--input-type=module", "-e", probe],
        { env: { PATH: process.env.PATH ?? "" }, timeout: 10_000, maxBuffer: 1 << 20 },
        (err, out, errOut) => {
          if (err)
            reject(
              new Error(
                (errOut || err.message)
                  .trim()
                  .split("\n")
                  .find((l) => /Error/.test(l)) ?? err.message,
              ),
            );
          else resolve(out);
        },
      );
    });
    return JSON.parse(stdout || "null");
  } catch (err) {
    throw usageError(
      `could not read \`export const config\` from the bundle: its top-level code failed in Node (${(err as Error).message}); keep top-level code free of I/O`,
      "config_unreadable",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function parseDuration(value: unknown): number {
  if (typeof value === "number" && Number.isFinite(value) && value > 0) return Math.round(value);
  if (typeof value === "string") {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(value);
    if (m) {
      const n = Number(m[1]) * (m[2] === "s" ? 1000 : m[2] === "m" ? 60_000 : 1);
      if (n > 0) return Math.round(n);
    }
  }
  throw usageError(
    `config.maxDuration must be milliseconds (e.g. 5000) or a string like "10s" or "500ms", got ${JSON.stringify(value)}`,
    "invalid_function_config",
  );
}

function stringList(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string"))
    throw usageError(`config.${field} must be an array of strings`, "invalid_function_config");
  return value as string[];
}

export function functionResource(exported: unknown): FunctionResource {
  const c = (exported ?? {}) as Record<string, unknown>;
  if (typeof c !== "object" || Array.isArray(c)) {
    const shape = "{ allowedHosts, maxDuration, exposeEnv, input, output }";
    throw usageError(`\`export const config\` must be an object ${shape}`, "invalid_function_config");
  }
  return {
    type: "function",
    allowedHosts: stringList(c.allowedHosts, "allowedHosts"),
    maxDurationMs: c.maxDuration === undefined ? DEFAULT_MAX_DURATION_MS : parseDuration(c.maxDuration),
    exposeEnv: stringList(c.exposeEnv, "exposeEnv"),
    ...functionDiscovery(c),
  };
}
