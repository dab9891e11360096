// `claw dev` (and `npm start`): the whole local stack on 127.0.0.1 — a local chain (anvil) with
// an EIP-3009 token and a funded demo payer, an x402 facilitator, and the dispatcher (wrangler dev
// with D1, R2, Durable Objects and the Worker Loader), seeded with a dev creator and demo APIs.
import { defineCommand } from "citty";
import { consola } from "consola";
import { startLocalStack } from "../dev/stack.ts";
import { DEMO_TENANTS, deployDemo, ensureDevCreator, saveDevState } from "../local/seed.ts";

export const devCommand = defineCommand({
  meta: { name: "dev", description: "Run the whole 402claw stack locally (chain, facilitator, dispatcher) with demo APIs" },
  args: {
    port: { type: "string", description: "Dispatcher port (default 8787, or a free one)" },
    verbose: { type: "boolean", description: "Show wrangler's output", default: false },
    json: { type: "boolean", description: "Print one JSON line with the URLs once ready", default: false },
    "persist-to": { type: "string", description: "Local state directory (default .wrangler/state)" },
  },
  async run({ args }) {
    if (!args.json) consola.start("Starting the local chain, the facilitator and the dispatcher on 127.0.0.1…");
    const stack = await startLocalStack({
      ...(args.port ? { port: Number(args.port) } : {}),
      ...(args["persist-to"] ? { persistTo: args["persist-to"] } : {}),
      echo: args.verbose,
    });
    const stop = async () => {
      await stack.stop();
      process.exit(0);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);

    const { payments, apiUrl, secrets } = stack;
    const creator = await ensureDevCreator(apiUrl, secrets.OPERATOR_TOKEN);
    saveDevState({ payerKey: payments.accounts.payer.privateKey, payerAddress: payments.accounts.payer.address, facilitatorUrl: payments.facilitatorUrl, rpcUrl: payments.rpcUrl });
    const paymentConfig = { payTo: payments.accounts.payTo.address, network: payments.network, asset: payments.asset };
    const demos = [];
    for (const demo of DEMO_TENANTS) {
      const paid = Number(demo.config.priceUsd ?? 0) > 0;
      const deployed = await deployDemo(apiUrl, creator.key, demo, paid ? paymentConfig : {});
      demos.push({ slug: demo.slug, url: `${apiUrl}/t/${demo.slug}/`, version: deployed.deployment.version, rows: deployed.deployment.rows, priceUsd: deployed.tenant.priceUsd });
    }
    const summary = {
      apiUrl,
      creatorKey: creator.key,
      operatorToken: secrets.OPERATOR_TOKEN,
      facilitatorUrl: payments.facilitatorUrl,
      rpcUrl: payments.rpcUrl,
      network: payments.network,
      asset: payments.asset,
      payer: payments.accounts.payer.address,
      payTo: payments.accounts.payTo.address,
      demos,
    };
    if (args.json) {
      process.stdout.write(JSON.stringify(summary) + "\n");
      return;
    }
    const free = demos.find((d) => d.priceUsd === 0);
    const paid = demos.find((d) => d.priceUsd > 0);
    consola.success(`402claw is running at ${apiUrl}`);
    consola.box(
      [
        `Health:        curl ${apiUrl}/health`,
        free ? `Free demo:     curl '${free.url}v1/records?country=JP&sort=-population&limit=3'` : "",
        paid ? `Paid demo:     curl -i '${paid.url}v1/records?country=JP'        (402: PAYMENT-REQUIRED)` : "",
        paid ? `Pay for it:    npm run claw -- call '${paid.url}v1/records?country=JP'` : "",
        `Earnings:      curl -H 'authorization: Bearer ${creator.key}' ${apiUrl}/v1/tenants/world-cities-pro/earnings`,
        ``,
        `Chain (anvil): ${payments.rpcUrl}  ${payments.network}  token ${payments.asset.address}`,
        `Facilitator:   ${payments.facilitatorUrl}`,
        `Demo payer:    ${payments.accounts.payer.address} (key in .claw/dev.json, used by claw call)`,
        `Creator key:   ${creator.key}`,
        `Operator:      ${secrets.OPERATOR_TOKEN} (in .dev.vars)`,
      ]
        .filter((line, i, all) => line !== "" || all[i - 1] !== "")
        .join("\n"),
    );
    consola.info("Press Ctrl+C to stop.");
  },
});
