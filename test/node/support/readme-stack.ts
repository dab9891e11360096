// For tests that follow the README as a new user would: `npm start` in the checkout (a fresh
// state dir, a free port), and a shell whose PATH has `claw` (this checkout's cli/bin.mjs, as an
// installed CLI would be) and a minimal `jq` (paths like .a.b[0].c), so README lines run verbatim.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../../cli/local/paths.ts";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A directory with `claw` and `jq` executables to put first on PATH. */
export function shimDir(dir: string): string {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  const claw = join(bin, "claw");
  writeFileSync(claw, `#!/bin/sh\nexec "${process.execPath}" "${join(REPO_ROOT, "cli", "bin.mjs")}" "$@"\n`);
  const jq = join(bin, "jq");
  const program = join(bin, "jq.cjs");
  writeFileSync(
    program,
    [
      'const v0 = JSON.parse(require("node:fs").readFileSync(0, "utf8"));',
      'const keys = (process.argv[2] || ".").match(/[A-Za-z_][\\w-]*|\\d+/g) || [];',
      "const v = keys.reduce((o, k) => (o == null ? null : o[k]), v0);",
      'process.stdout.write(JSON.stringify(v) + "\\n");',
    ].join("\n"),
  );
  writeFileSync(jq, `#!/bin/sh\nexec "${process.execPath}" "${program}" "$1"\n`);
  chmodSync(claw, 0o755);
  chmodSync(jq, 0o755);
  return bin;
}

/** Runs one shell command line (a README line) with `env`. */
export function sh(line: string, env: NodeJS.ProcessEnv, cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile("/bin/sh", ["-c", line], { cwd, env, timeout: 90_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as { code?: unknown }).code === "number"
          ? (err as { code: number }).code
          : 1
        : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface NpmStart {
  child: ChildProcess;
  stderr: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop: () => Promise<void>;
}

/** `npm start -- <args>` in the checkout; resolves once the banner says it runs (or it exits). */
export async function npmStart(
  args: string[],
  env: NodeJS.ProcessEnv,
  devJson: string,
  readyTimeoutMs = 150_000,
): Promise<NpmStart> {
  // detached: npm, its shell and `claw dev` share a process group that stop() signals at once.
  const child = spawn("npm", ["start", "--", ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let err = "";
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  child.stdout!.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      clearInterval(check);
      signal(child, "SIGTERM");
      reject(new Error(`npm start did not get ready:\n${err}`));
    }, readyTimeoutMs);
    const check = setInterval(() => {
      if (err.includes("Press Ctrl+C to stop.")) done();
    }, 100);
    const done = () => {
      clearTimeout(timer);
      clearInterval(check);
      resolve();
    };
    void exited.then(done);
  });
  const stop = async () => {
    // `claw dev` (its pid is in dev.json) stops wrangler and anvil after npm itself has exited.
    const devPid = readPid(devJson);
    signal(child, "SIGTERM");
    await exited;
    while (devPid !== null && alive(devPid)) await new Promise((r) => setTimeout(r, 100));
  };
  return { child, stderr: () => err, exited, stop };
}

function signal(child: ChildProcess, name: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid!, name);
  } catch {
    child.kill(name);
  }
}

function readPid(file: string): number | null {
  try {
    const pid = (JSON.parse(readFileSync(file, "utf8")) as { pid?: number }).pid;
    return typeof pid === "number" ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
