// `claw publish <name> [path]`: production. Uploads the tenant's worker to the Workers for
// Platforms dispatch namespace through the Cloudflare REST API (cli/publish/cloudflare-api.ts).
// In production the platform's control plane does this with the platform's token; this command
// is that client, runnable by an operator (CLOUDFLARE_API_TOKEN) and testable against a local
// recording server (--api-base). --dry-run prints the plan and uploads nothing (no token needed).
import { defineCommand } from "citty";
import { resolve } from "node:path";
import { ApiClient } from "../api/client.ts";
import { usageError } from "../errors.ts";
import { checkSlug } from "../deploy/flags.ts";
import { CLOUDFLARE_API_BASE, putDispatchScript, scriptUrl } from "../publish/cloudflare-api.ts";
import { buildUpload, describeUpload, type TenantInfo } from "../publish/plan.ts";
import { jsonArg, runCommand } from "../ui.ts";

export const publishCommand = defineCommand({
  meta: { name: "publish", description: "Upload an API's worker to a Workers for Platforms namespace (production)" },
  args: {
    name: { type: "positional", required: true, description: "API name (slug)" },
    path: { type: "positional", required: false, description: "The file it was deployed from (dataset or function source)" },
    account: { type: "string", description: "Cloudflare account id (default $CLOUDFLARE_ACCOUNT_ID)" },
    namespace: { type: "string", description: "Dispatch namespace (default $CLAW_DISPATCH_NAMESPACE)" },
    "api-base": { type: "string", description: `Cloudflare API base (default ${CLOUDFLARE_API_BASE})` },
    "dry-run": { type: "boolean", description: "Print the plan, upload nothing", default: false },
    ...jsonArg,
  },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const slug = checkSlug(args.name);
      const accountId = args.account ?? process.env.CLOUDFLARE_ACCOUNT_ID;
      const namespace = args.namespace ?? process.env.CLAW_DISPATCH_NAMESPACE;
      if (!accountId) throw usageError("pass --account <Cloudflare account id> (or set CLOUDFLARE_ACCOUNT_ID)", "missing_account");
      if (!namespace) throw usageError("pass --namespace <dispatch namespace> (or set CLAW_DISPATCH_NAMESPACE)", "missing_namespace");
      const apiBase = args["api-base"] ?? CLOUDFLARE_API_BASE;
      const token = process.env.CLOUDFLARE_API_TOKEN;
      if (!args["dry-run"] && !token) throw usageError("set CLOUDFLARE_API_TOKEN (Workers Scripts: Edit), or use --dry-run to see the plan", "missing_cloudflare_token");
      const { tenant } = await ApiClient.fromEnv().request<{ tenant: TenantInfo }>(`/v1/tenants/${slug}`);
      ui.start(`Building ${tenant.resourceType} '${slug}' v${tenant.version}…`);
      const upload = await buildUpload(tenant, args.path ? resolve(args.path) : undefined);
      const url = scriptUrl({ apiBase, accountId, namespace }, upload.scriptName);
      const plan = describeUpload(upload, url);
      if (args["dry-run"]) {
        ui.info(`Dry run: would PUT ${url}`);
        ui.print(JSON.stringify(plan, null, 2));
        return { dryRun: true, plan };
      }
      ui.start(`Uploading ${upload.scriptName} to namespace ${namespace}…`);
      const result = await putDispatchScript({ apiBase, accountId, namespace, token: token! }, upload);
      ui.success(`Published ${upload.scriptName} (v${tenant.version}) to ${namespace}`);
      return { dryRun: false, plan, result };
    });
  },
});
