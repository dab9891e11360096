// The `claw` command tree (citty). Each subcommand lives in cli/commands/; exit codes in
// cli/core/errors.ts. Folders depend one way: core ← local ← stack ← dev, and
// local ← config ← api ← deploy; commands/ uses them all and only main.ts uses commands/.
import { defineCommand, runCommand, showUsage } from "citty";
import { devCommand } from "./commands/dev.ts";
import { callCommand } from "./commands/call.ts";
import { deployCommand } from "./commands/deploy.ts";
import { wrapCommand } from "./commands/wrap.ts";
import { loginCommand, logoutCommand, whoamiCommand } from "./commands/account.ts";
import { listCommand, rmCommand, showCommand } from "./commands/manage.ts";
import { earningsCommand, leaderboardCommand, statsCommand } from "./commands/stats.ts";
import { keysCommand } from "./commands/keys.ts";
import { publishCommand } from "./commands/publish.ts";
import { mcpCommand } from "./commands/mcp.ts";
import { asCommandDef, resolveLeaf, unknownFlagError, type CommandNode } from "./core/command-tree.ts";
import { CliError, EXIT } from "./core/errors.ts";
import { printError } from "./core/ui.ts";

const main = defineCommand({
  meta: { name: "claw", version: "0.1.0", description: "Publish pay-per-call APIs for AI agents on 402claw" },
  subCommands: {
    login: loginCommand,
    logout: logoutCommand,
    whoami: whoamiCommand,
    deploy: deployCommand,
    wrap: wrapCommand,
    list: listCommand,
    show: showCommand,
    rm: rmCommand,
    stats: statsCommand,
    earnings: earningsCommand,
    leaderboard: leaderboardCommand,
    keys: keysCommand,
    publish: publishCommand,
    call: callCommand,
    mcp: mcpCommand,
    dev: devCommand,
  },
});

// citty's runMain exits 1 on every error; usage mistakes (unknown command or flag, missing
// argument) are exit 2 here, like every other bad input.
const rawArgs = process.argv.slice(2);
const json = rawArgs.includes("--json");
const root = main as CommandNode;
try {
  if (rawArgs.length === 0 || rawArgs.some((a) => a === "--help" || a === "-h")) {
    const leaf = await resolveLeaf(root, rawArgs);
    await showUsage(asCommandDef(leaf.cmd), leaf.parent ? asCommandDef(leaf.parent) : undefined);
  } else if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
    console.log("0.1.0");
  } else {
    const unknown = await unknownFlagError(root, rawArgs);
    if (unknown) throw unknown;
    await runCommand(main, { rawArgs });
  }
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  const cliError =
    error instanceof CliError
      ? error
      : (error as { name?: string }).name === "CLIError"
        ? new CliError(`${message.replace(/\.$/, "")}; see \`claw --help\``, EXIT.usage, "invalid_usage")
        : new CliError(message, EXIT.failure, "internal");
  printError(cliError, json);
}
