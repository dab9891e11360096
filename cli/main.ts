// The `claw` command tree (citty). Each subcommand lives in cli/commands/. Exit codes: cli/errors.ts.
import { defineCommand, runCommand, showUsage } from "citty";
import { devCommand } from "./commands/dev.ts";
import { callCommand } from "./commands/call.ts";
import { deployCommand, wrapCommand } from "./commands/deploy.ts";
import { loginCommand, logoutCommand, whoamiCommand } from "./commands/account.ts";
import { earningsCommand, leaderboardCommand, listCommand, rmCommand, showCommand, statsCommand } from "./commands/manage.ts";
import { keysCommand } from "./commands/keys.ts";
import { publishCommand } from "./commands/publish.ts";
import { EXIT } from "./errors.ts";

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
    dev: devCommand,
  },
});

// citty's runMain exits 1 on every error; usage mistakes (unknown command, missing argument) are
// exit 2 here, like every other bad input.
const rawArgs = process.argv.slice(2);
try {
  if (rawArgs.length === 0 || rawArgs.some((a) => a === "--help" || a === "-h")) {
    const { resolveSubCommand } = await import("./help.ts");
    await showUsage(...(await resolveSubCommand(main, rawArgs)));
  } else if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
    console.log("0.1.0");
  } else {
    await runCommand(main, { rawArgs });
  }
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  const isUsage = (error as { name?: string }).name === "CLIError";
  process.stderr.write(`✖ ${isUsage ? `${message}; see \`claw --help\`` : message}\n`);
  process.exitCode = isUsage ? EXIT.usage : EXIT.failure;
}
