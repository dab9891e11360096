// Walks the `claw` command tree for what citty does not do itself: finding the subcommand named
// in argv (for `--help`) and refusing flags that command does not declare. citty silently ignores
// unknown flags, so `--prise 0.5` would publish a free API and `--maxprice` pay the default cap;
// every command goes through `unknownFlagError` first (cli/main.ts), in this one place.
import type { ArgsDef, CommandDef } from "citty";
import { usageError, type CliError } from "./errors.ts";

type Resolvable<T> = T | Promise<T> | (() => T) | (() => Promise<T>);
/** The part of a citty command this file reads (any CommandDef<…> fits it). */
export interface CommandNode {
  meta?: Resolvable<{ name?: string }>;
  args?: Resolvable<ArgsDef>;
  subCommands?: Resolvable<Record<string, Resolvable<CommandNode>>>;
}

async function resolve<T>(value: Resolvable<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

export interface Leaf {
  /** The command that runs, its parent (for usage lines), and the words that named it. */
  cmd: CommandNode;
  parent: CommandNode | undefined;
  path: string[];
  /** argv after the subcommand names. */
  rest: string[];
}

/** Follows the first non-flag words of argv down the subcommands as far as they name one. */
export async function resolveLeaf(root: CommandNode, rawArgs: string[]): Promise<Leaf> {
  let leaf: Leaf = { cmd: root, parent: undefined, path: [], rest: rawArgs };
  for (;;) {
    const subs = leaf.cmd.subCommands ? await resolve(leaf.cmd.subCommands) : undefined;
    const index = leaf.rest.findIndex((a) => !a.startsWith("-"));
    const name = index >= 0 ? leaf.rest[index]! : undefined;
    if (!subs || !name || !(name in subs)) return leaf;
    const cmd = await resolve(subs[name]!);
    leaf = { cmd, parent: leaf.cmd, path: [...leaf.path, name], rest: leaf.rest.slice(index + 1) };
  }
}

/** Pure: the edit distance of two short strings (for "did you mean"). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The declared flag closest to `name` (dashes ignored, so --maxprice finds --max-price), if close. */
export function suggestFlag(name: string, known: string[]): string | null {
  const plain = (s: string) => s.replace(/-/g, "").toLowerCase();
  let best: { flag: string; distance: number } | null = null;
  for (const flag of known) {
    const distance = editDistance(plain(name), plain(flag));
    if (!best || distance < best.distance) best = { flag, distance };
  }
  return best && best.distance <= (plain(name).length <= 3 ? 1 : 2) ? best.flag : null;
}

interface FlagSpec {
  /** Long names (and one-letter aliases) that take a value. */
  valued: Set<string>;
  /** Every accepted name, without dashes. */
  all: Set<string>;
}

function flagSpec(args: ArgsDef): FlagSpec {
  const valued = new Set<string>();
  const all = new Set<string>(["help", "h"]);
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const aliases = "alias" in def && def.alias !== undefined ? [def.alias].flat() : [];
    for (const n of [name, ...aliases]) {
      all.add(n);
      if (def.type === "boolean") all.add(`no-${n}`);
      else valued.add(n);
    }
  }
  return { valued, all };
}

/**
 * Pure: the flags in `argv` (after the subcommand) that `args` does not declare. A declared
 * string flag's value is skipped (`--name -x` is a value); everything after `--` is positional.
 */
export function unknownFlags(args: ArgsDef, argv: string[]): string[] {
  const spec = flagSpec(args);
  const unknown: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    if (!arg.startsWith("-") || arg === "-" || /^-\d/.test(arg)) continue;
    const name = arg.replace(/^--?/, "").split("=", 1)[0]!;
    if (!spec.all.has(name)) unknown.push(arg.split("=", 1)[0]!);
    else if (spec.valued.has(name) && !arg.includes("=")) i++;
  }
  return unknown;
}

/** The usage error for the first unknown flag of the command argv names, or null. */
export async function unknownFlagError(root: CommandNode, rawArgs: string[]): Promise<CliError | null> {
  const leaf = await resolveLeaf(root, rawArgs);
  if (leaf.cmd.subCommands && !leaf.cmd.args) return null; // a group: citty reports the missing subcommand
  const args = leaf.cmd.args ? await resolve(leaf.cmd.args) : {};
  const [first] = unknownFlags(args, leaf.rest);
  if (!first) return null;
  const known = Object.entries(args)
    .filter(([, d]) => d.type !== "positional")
    .map(([n]) => n);
  const suggestion = suggestFlag(first.replace(/^--?/, ""), known);
  const command = ["claw", ...leaf.path].join(" ");
  const meant = suggestion ? `: did you mean --${suggestion}?` : "";
  return usageError(`unknown flag ${first} for \`${command}\`${meant} (see \`${command} --help\`)`, "unknown_flag");
}

/** For citty's showUsage, which wants its own type. */
export function asCommandDef(node: CommandNode): CommandDef {
  return node as CommandDef;
}
