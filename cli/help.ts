// Finds the subcommand named in argv for `--help` (citty does not export its own resolver).
import type { CommandDef } from "citty";

export async function resolveSubCommand(cmd: CommandDef<any>, rawArgs: string[], parent?: CommandDef<any>): Promise<[CommandDef<any>, CommandDef<any>?]> {
  const subCommands = typeof cmd.subCommands === "function" ? await cmd.subCommands() : await cmd.subCommands;
  const name = rawArgs.find((a) => !a.startsWith("-"));
  if (subCommands && name && name in subCommands) {
    const sub = subCommands[name]!;
    const resolved = (typeof sub === "function" ? await (sub as () => Promise<CommandDef<any>>)() : await sub) as CommandDef<any>;
    return resolveSubCommand(resolved, rawArgs.slice(rawArgs.indexOf(name) + 1), cmd);
  }
  return parent ? [cmd, parent] : [cmd];
}
