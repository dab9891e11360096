// Shared command plumbing: human output through consola (on stderr, so stdout stays the result),
// `--json` printing exactly one JSON object on stdout, and errors mapped to one line + exit code.
import { consola } from "consola";
import { CliError, EXIT } from "./errors.ts";

export const jsonArg = {
  json: { type: "boolean", description: "Print one JSON object on stdout (for scripts and agents)", default: false },
} as const;

export interface Ui {
  json: boolean;
  start: (message: string) => void;
  success: (message: string) => void;
  info: (message: string) => void;
  warn: (message: string) => void;
  box: (message: string) => void;
  /** Plain human text on stdout (tables, bodies); suppressed in --json mode. */
  print: (text: string) => void;
}

export function makeUi(json: boolean): Ui {
  const quiet = () => {};
  // Level 3 (info) explicitly: consola drops to warnings when NODE_ENV=test, which would hide
  // human output whenever a test runner is an ancestor. CONSOLA_LEVEL still wins.
  const level = Number.parseInt(process.env.CONSOLA_LEVEL ?? "3", 10);
  const options = { stdout: process.stderr, stderr: process.stderr, level: Number.isNaN(level) ? 3 : level };
  const log = consola.create(options);
  return {
    json,
    start: json ? quiet : (m) => log.start(m),
    success: json ? quiet : (m) => log.success(m),
    info: json ? quiet : (m) => log.info(m),
    warn: json ? quiet : (m) => log.warn(m),
    box: json ? quiet : (m) => log.box(m),
    print: json ? quiet : (t) => process.stdout.write(t.endsWith("\n") ? t : t + "\n"),
  };
}

/**
 * Runs a command body. `body` returns the machine-readable result (printed with --json) and does
 * its own human printing through `ui`. A CliError becomes one line and its exit code.
 */
export async function runCommand(json: boolean, body: (ui: Ui) => Promise<unknown>): Promise<void> {
  const ui = makeUi(json);
  try {
    const result = await body(ui);
    if (json) process.stdout.write(JSON.stringify(result ?? { ok: true }) + "\n");
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const error =
      err instanceof CliError ? err : new CliError(`unexpected error: ${message}`, EXIT.failure, "internal");
    printError(error, json);
  }
}

/** Colour only for a terminal, and never with NO_COLOR set (https://no-color.org) or TERM=dumb. */
export function colorFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== "dumb";
}

/** The one error output: `✖ message` on stderr, or the JSON error object on stdout with --json. */
export function printError(error: CliError, json: boolean): void {
  if (json) {
    const details = error.details === undefined ? {} : { details: error.details };
    const body = { error: { code: error.code, message: error.message, exitCode: error.exitCode, ...details } };
    process.stdout.write(JSON.stringify(body) + "\n");
  } else {
    process.stderr.write(`${colorFor(process.stderr) ? "\x1b[31m✖\x1b[0m" : "✖"} ${error.message}\n`);
  }
  process.exitCode = error.exitCode;
}

/** Values of a repeatable string flag (`--host a --host b`, `--host=a`), which citty collapses to the last. */
export function repeated(rawArgs: string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === "--") break;
    if (arg === `--${name}`) {
      const next = rawArgs[i + 1];
      if (next !== undefined) values.push(next);
      i++;
    } else if (arg.startsWith(`--${name}=`)) values.push(arg.slice(name.length + 3));
  }
  return values;
}

export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "))
    .join("\n");
}

/** "1 call", "2 calls", "0 calls": counts in human output never read "1 calls". */
export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : nouns}`;
}

/**
 * How to run `claw` the way this process was run, for commands printed to copy: through
 * `npm run claw --` when npm started us (no `claw` on PATH in a checkout), else plain `claw`.
 */
export function clawCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.npm_lifecycle_event === "claw" || env.npm_lifecycle_event === "start" ? "npm run claw --" : "claw";
}
