// `claw dev` (and `npm start`): the whole local stack on 127.0.0.1 — a local chain (anvil) with
// an EIP-3009 token and a funded demo payer, an x402 facilitator, and the dispatcher (wrangler dev
// with D1, R2, Durable Objects and the Worker Loader), seeded with a dev creator and demo APIs,
// then (unless --no-demo-traffic) a demo market of real paid calls, rolled up (cli/dev/market.ts).
// One stack per checkout: a second `claw dev` names the running one and exits 5. While it runs,
// .claw/dev.json points the CLI here at it (cli/local/dev-state.ts); when it stops, no longer.
import { defineCommand } from "citty";
import { startLocalStack, type LocalStack } from "../dev/stack.ts";
import { DEMO_TENANTS, deployDemo, ensureDevCreator } from "../dev/seed.ts";
import { seedMarket, type MarketSummary } from "../dev/market.ts";
import { clearRunning, readDevState, runningStack, saveDevState } from "../local/dev-state.ts";
import { CliError, EXIT, usageError } from "../core/errors.ts";
import { runCommand, type Ui } from "../core/ui.ts";

/** Refuses while another `claw dev` of this checkout lives; forgets one that died. */
async function claimStack(): Promise<void> {
  const state = readDevState();
  const running = runningStack(state);
  if (running && running.pid !== process.pid) {
    const where = running.apiUrl ? `at ${running.apiUrl}` : "(still starting)";
    throw new CliError(
      `402claw is already running ${where}, pid ${running.pid}, started ${state.startedAt ?? "earlier"}: ` +
        "use it, or stop it (Ctrl+C in its terminal) before starting another",
      EXIT.conflict,
      "already_running",
    );
  }
  if (state.pid !== undefined) clearRunning(state.pid);
  saveDevState({ pid: process.pid, startedAt: new Date().toISOString() });
}

async function seed(stack: LocalStack) {
  const { payments, apiUrl, secrets } = stack;
  const creator = await ensureDevCreator(apiUrl, secrets.OPERATOR_TOKEN);
  const paymentConfig = { payTo: payments.accounts.payTo.address, network: payments.network, asset: payments.asset };
  const demos = [];
  for (const demo of DEMO_TENANTS) {
    const paid = Number(demo.config.priceUsd ?? 0) > 0;
    const deployed = await deployDemo(apiUrl, creator.key, demo, paid ? paymentConfig : {});
    const { version, rows } = deployed.deployment;
    const url = `${apiUrl}/t/${demo.slug}/`;
    demos.push({ slug: demo.slug, url, version, rows, priceUsd: deployed.tenant.priceUsd });
  }
  return {
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
}

/** What `claw dev --json` prints; `market` is absent with --no-demo-traffic. */
type Summary = Awaited<ReturnType<typeof seed>> & { market?: MarketSummary };

function marketLine(m: MarketSummary | undefined): string {
  if (!m) return "(no demo traffic)";
  return `(${m.paidCalls} paid calls to ${m.apis.length} APIs; ${m.washApi} is wash-traded)`;
}

/** The ready banner; every line fits 100 columns with the box around it. */
export function banner(s: Summary): string {
  const free = s.demos.find((d) => d.priceUsd === 0);
  const paid = s.demos.find((d) => d.priceUsd > 0);
  return [
    `Health:      curl ${s.apiUrl}/health`,
    free ? `Free demo:   curl '${free.url}v1/records?country=JP&limit=3'` : "",
    paid ? `Paid demo:   curl -i '${paid.url}v1/records?country=JP' (402)` : "",
    paid ? `Pay for it:  npm run claw -- call '${paid.url}v1/records?country=JP'` : "",
    paid ? `Earnings:    npm run claw -- earnings ${paid.slug}` : "",
    `Explore:     ${s.apiUrl}/explore  ${marketLine(s.market)}`,
    `Dashboard:   ${s.apiUrl}/dashboard  (sign in with the creator key below)`,
    `Who am I:    npm run claw -- whoami   (the CLI here uses this stack and its dev key)`,
    ``,
    `Chain:       ${s.rpcUrl}  (anvil, ${s.network})`,
    `Token:       ${s.asset.address}  (${s.asset.name}, ${s.asset.decimals} decimals)`,
    `Facilitator: ${s.facilitatorUrl}`,
    `Demo payer:  ${s.payer}  (key in .claw/dev.json)`,
    `Creator key: ${s.creatorKey}`,
    `Operator:    ${s.operatorToken}  (in .dev.vars)`,
  ]
    .filter((line, i, all) => line !== "" || all[i - 1] !== "")
    .join("\n");
}

function port(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw usageError(`--port must be 1-65535, got '${value}'`, "invalid_port");
  }
  return n;
}

interface DevArgs {
  port?: string;
  verbose: boolean;
  "persist-to"?: string;
  "demo-traffic": boolean;
}

async function start(ui: Ui, args: DevArgs): Promise<Summary> {
  await claimStack();
  // However this process ends (Ctrl+C, a crash, a failed start), the file stops pointing here.
  process.once("exit", () => clearRunning(process.pid));
  ui.start("Starting the local chain, the facilitator and the dispatcher on 127.0.0.1…");
  const portNumber = port(args.port);
  const stack = await startLocalStack({
    ...(portNumber ? { port: portNumber, exactPort: true } : {}),
    ...(args["persist-to"] ? { persistTo: args["persist-to"] } : {}),
    echo: args.verbose,
  });
  const stop = async () => {
    clearRunning(process.pid);
    await stack.stop();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const summary: Summary = await seed(stack);
  if (args["demo-traffic"]) {
    ui.start("Seeding the demo market: real paid calls from 8 payers, a wash trader and 5 sybils…");
    summary.market = await seedMarket(stack);
    ui.info(`Demo market: ${summary.market.paidCalls} paid calls settled and ranked in ${summary.market.ms} ms`);
  }
  const { payments } = stack;
  saveDevState({
    apiUrl: stack.apiUrl,
    payerKey: payments.accounts.payer.privateKey,
    payerAddress: payments.accounts.payer.address,
    facilitatorUrl: payments.facilitatorUrl,
    rpcUrl: payments.rpcUrl,
  });
  return summary;
}

export const devCommand = defineCommand({
  meta: {
    name: "dev",
    description: "Run the whole 402claw stack locally (chain, facilitator, dispatcher) with demo APIs",
  },
  args: {
    port: { type: "string", description: "Dispatcher port (default 8787, or a free one)" },
    verbose: { type: "boolean", description: "Show wrangler's output", default: false },
    json: { type: "boolean", description: "Print one JSON line with the URLs once ready", default: false },
    "persist-to": { type: "string", description: "Local state directory (default .wrangler/state)" },
    "demo-traffic": {
      type: "boolean",
      description: "Seed the demo market with real paid calls (--no-demo-traffic skips it)",
      default: true,
    },
  },
  async run({ args }) {
    let ready = false;
    await runCommand(args.json, async (ui) => {
      const summary = await start(ui, args);
      ready = true;
      if (!args.json) {
        ui.success(`402claw is running at ${summary.apiUrl}`);
        process.stderr.write(`\n${banner(summary)}\n\n`); // human output: stderr, like every status line
        ui.info("Press Ctrl+C to stop.");
      }
      return summary;
    });
    // A failed start must not leave wrangler or anvil behind: the exit hook stops them.
    if (!ready) process.exit();
  },
});
