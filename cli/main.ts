// The `claw` command tree (citty). Each subcommand lives in cli/commands/.
import { defineCommand, runMain } from "citty";
import { devCommand } from "./commands/dev.ts";
import { callCommand } from "./commands/call.ts";

const main = defineCommand({
  meta: { name: "claw", version: "0.1.0", description: "Publish pay-per-call APIs for AI agents on 402claw" },
  subCommands: { dev: devCommand, call: callCommand },
});

await runMain(main);
