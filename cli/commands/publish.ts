// `claw publish <name> [--dry-run]`: production. Asks the platform's control plane to upload the
// tenant's current version to the Workers for Platforms dispatch namespace (POST
// /v1/tenants/:slug/publish). The control plane builds the script from the artifacts it stores and
// uploads it with the platform's Cloudflare token: the creator needs only their 402claw key, and
// no local files. --dry-run prints the plan (modules with sizes and hashes, binding names) and
// uploads nothing.
import { defineCommand } from "citty";
import { PlatformApi } from "../api/platform.ts";
import { checkSlug } from "../deploy/flags.ts";
import { jsonArg, runCommand } from "../core/ui.ts";

export const publishCommand = defineCommand({
  meta: {
    name: "publish",
    description: "Publish an API's current version to the platform's Workers for Platforms namespace (production)",
  },
  args: {
    name: { type: "positional", required: true, description: "API name (slug)" },
    "dry-run": { type: "boolean", description: "Print the plan, upload nothing", default: false },
    ...jsonArg,
  },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const slug = checkSlug(args.name);
      const dryRun = args["dry-run"];
      ui.start(dryRun ? `Planning the publish of '${slug}'…` : `Publishing '${slug}'…`);
      const out = await PlatformApi.fromEnv().publish(slug, dryRun);
      const { plan } = out;
      if (dryRun) {
        ui.info(`Dry run: would PUT ${plan.url} (v${out.version})`);
        if (out.missingSettings?.length)
          ui.warn(`this platform cannot publish yet: ${out.missingSettings.join(", ")} not set by the operator`);
        ui.print(JSON.stringify(plan, null, 2));
      } else {
        ui.success(`Published ${plan.scriptName} (v${out.version}) to namespace ${plan.namespace}`);
        for (const m of plan.modules) ui.info(`${m.name}  ${m.bytes} B  sha256 ${m.sha256.slice(0, 12)}…`);
        ui.info(`bindings: ${plan.metadata.bindings.map((b) => `${b.name} (${b.type})`).join(", ")}`);
      }
      return out;
    });
  },
});
