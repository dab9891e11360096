// `claw dev` (and `npm start`): the whole local stack on 127.0.0.1 — the dispatcher (wrangler
// dev with D1, R2, Durable Objects and the Worker Loader), seeded with a dev creator and demo APIs.
import { defineCommand } from "citty";
import { consola } from "consola";
import { ensureDevSecrets } from "../local/dev-vars.ts";
import { startDispatcher } from "../local/dispatcher.ts";
import { DEMO_TENANTS, deployDemo, ensureDevCreator } from "../local/seed.ts";

export const devCommand = defineCommand({
  meta: { name: "dev", description: "Run the whole 402claw stack locally with demo APIs" },
  args: {
    port: { type: "string", description: "Dispatcher port (default 8787, or a free one)" },
    verbose: { type: "boolean", description: "Show wrangler's output", default: false },
    json: { type: "boolean", description: "Print one JSON line with the URLs once ready", default: false },
    "persist-to": { type: "string", description: "Local state directory (default .wrangler/state)" },
  },
  async run({ args }) {
    const secrets = ensureDevSecrets();
    if (!args.json) consola.start("Starting the dispatcher (wrangler dev on 127.0.0.1)…");
    const dispatcher = await startDispatcher({
      ...(args.port ? { port: Number(args.port) } : {}),
      ...(args["persist-to"] ? { persistTo: args["persist-to"] } : {}),
      echo: args.verbose,
    });
    const stop = async () => {
      await dispatcher.stop();
      process.exit(0);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);

    const creator = await ensureDevCreator(dispatcher.url, secrets.OPERATOR_TOKEN);
    const demos = [];
    for (const demo of DEMO_TENANTS) {
      const deployed = await deployDemo(dispatcher.url, creator.key, demo);
      demos.push({ slug: demo.slug, url: `${dispatcher.url}/t/${demo.slug}/`, version: deployed.deployment.version, rows: deployed.deployment.rows });
    }
    const summary = { apiUrl: dispatcher.url, creatorKey: creator.key, operatorToken: secrets.OPERATOR_TOKEN, demos };
    if (args.json) {
      process.stdout.write(JSON.stringify(summary) + "\n");
    } else {
      consola.success(`402claw is running at ${dispatcher.url}`);
      consola.box(
        [
          `Health:      curl ${dispatcher.url}/health`,
          ...demos.map((d) => `Demo (free): curl '${d.url}v1/records?country=JP&sort=-population&limit=3'   (${d.rows} rows)`),
          ...demos.map((d) => `Schema:      curl ${d.url}v1/schema`),
          `Your tenants: curl -H 'authorization: Bearer ${creator.key}' ${dispatcher.url}/v1/tenants`,
          `Dev creator key (also in .claw/dev.json): ${creator.key}`,
          `Operator token (in .dev.vars): ${secrets.OPERATOR_TOKEN}`,
        ].join("\n"),
      );
      consola.info("Press Ctrl+C to stop.");
    }
  },
});
