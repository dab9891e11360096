// `claw deploy <path>`: .csv/.json → dataset, .js/.ts/.mjs/.mts/.cjs → function (bundled here
// with esbuild); `claw wrap <url>` (a proxy): cli/commands/wrap.ts. Everything is
// checked locally first (file type, readability, flags, secrets from the environment, the
// function's exported config), then ONE multipart POST /v1/tenants/:slug/deployments; the server
// validates before it writes, so a refused deploy leaves nothing behind.
import { defineCommand } from "citty";
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { basename, extname, resolve } from "node:path";
import { PlatformApi } from "../api/platform.ts";
import { usageError } from "../core/errors.ts";
import { deployArgs, checkSlug, configFromFlags, secretsFromFlags, slugFrom } from "../deploy/flags.ts";
import { bundleFunction, functionResource, readExportedConfig, type FunctionResource } from "../deploy/bundle.ts";
import { reportDeployed, upload, withPlatformDefaults } from "../deploy/upload.ts";
import { jsonArg, runCommand, type Ui } from "../core/ui.ts";

const DATASET_EXT = new Set([".csv", ".json"]);
const FUNCTION_EXT = new Set([".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx"]);

export function kindOf(path: string): "dataset" | "function" {
  const ext = extname(path).toLowerCase();
  if (DATASET_EXT.has(ext)) return "dataset";
  if (FUNCTION_EXT.has(ext)) return "function";
  throw usageError(
    `unknown file type '${ext || basename(path)}': deploy a dataset (.csv, .json) or a function (.js, .ts, .mjs); to proxy an API use \`claw wrap <url>\``,
    "unknown_file_type",
  );
}

function readable(path: string): Buffer {
  try {
    if (!statSync(path).isFile()) throw new Error("not a regular file");
    accessSync(path, constants.R_OK);
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (err as Error).message;
    throw usageError(`cannot read ${path}: ${why}`, "unreadable_file");
  }
}

export const deployCommand = defineCommand({
  meta: {
    name: "deploy",
    description: "Deploy a dataset (.csv, .json) or a function (.js, .ts, .mjs) as a pay-per-call API",
  },
  args: {
    path: { type: "positional", required: true, description: "The file to deploy" },
    ...deployArgs,
    format: { type: "string", description: "Dataset format when the extension does not say: csv | json" },
    "id-field": { type: "string", description: "Dataset field used by /v1/records/:id" },
    ...jsonArg,
  },
  async run({ args, rawArgs }) {
    await runCommand(args.json, async (ui) => {
      // `npm run claw -- deploy x.csv` runs in the repo root: resolve from where npm was started.
      const fromNpm = process.env.npm_lifecycle_event === "claw" && process.env.INIT_CWD;
      const path = resolve(fromNpm || process.cwd(), args.path);
      const kind = kindOf(path);
      const bytes = readable(path);
      const slug = checkSlug(args.name ?? slugFrom(basename(path)));
      const flags = configFromFlags(args, rawArgs);
      const secrets = secretsFromFlags(rawArgs);
      const api = PlatformApi.fromEnv();
      api.requireKey();
      const config = await withPlatformDefaults(api, flags);
      if (kind === "dataset") {
        if (Object.keys(secrets).length)
          throw usageError("--secret is for functions and proxies; datasets have no code to read it", "invalid_secret");
        const resource = datasetResource(args.format, args["id-field"]);
        const form = new FormData();
        form.set("file", new File([new Uint8Array(bytes)], basename(path)));
        form.set("config", JSON.stringify(resource ? { ...config, resource } : config));
        const result = await upload(ui, api, slug, form, `${basename(path)} (${sizeText(bytes.length)})`);
        return reportDeployed(ui, api, kind, slug, result);
      }
      const form = await functionForm(ui, path, config, secrets);
      const result = await upload(ui, api, slug, form, `function ${basename(path)}`);
      return reportDeployed(ui, api, kind, slug, result);
    });
  },
});

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

function datasetResource(format: string | undefined, idField: string | undefined): Record<string, unknown> | null {
  const resource: Record<string, unknown> = {};
  if (format) {
    if (format !== "csv" && format !== "json")
      throw usageError(`--format must be csv or json, got '${format}'`, "invalid_format");
    resource.format = format;
  }
  if (idField) resource.idField = idField;
  return Object.keys(resource).length ? resource : null;
}

async function functionForm(
  ui: Ui,
  path: string,
  config: Record<string, unknown>,
  secrets: Record<string, string>,
): Promise<FormData> {
  ui.start(`Bundling ${basename(path)} with esbuild…`);
  const bundle = await bundleFunction(path);
  for (const w of bundle.warnings) ui.warn(w);
  const resource = functionResource(await readExportedConfig(bundle.code));
  for (const name of Object.keys(secrets)) {
    if (!resource.exposeEnv.includes(name))
      ui.warn(`secret ${name} is uploaded but not in config.exposeEnv, so your code will not see it`);
  }
  const egress = resource.allowedHosts.join(", ") || "none";
  const timeout = `timeout ${resource.maxDurationMs} ms`;
  ui.success(`Bundled ${sizeText(bundle.bytes)}; egress: ${egress}; ${timeout}; ${schemaNote(resource)}`);
  const form = new FormData();
  form.set("code", new File([bundle.code], "worker.js", { type: "application/javascript+module" }));
  form.set("config", JSON.stringify({ ...config, resource }));
  if (Object.keys(secrets).length) form.set("secrets", JSON.stringify(secrets));
  return form;
}

function schemaNote(r: FunctionResource): string {
  if (r.operations) return `${r.operations.length} declared operation(s)`;
  const declared = [r.input !== undefined ? "input" : "", r.output !== undefined ? "output" : ""].filter(Boolean);
  return declared.length ? `declares ${declared.join(" and ")} schema` : "no input/output schema declared";
}
