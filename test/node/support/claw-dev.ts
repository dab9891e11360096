// Starts the real `claw dev --json` (what `npm start` runs) on a free 127.0.0.1 port with its state
// in a temp dir, and resolves with the JSON summary it prints once ready; stop() ends it and
// removes the dir. For tests of what the local stack seeds.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../../cli/local/ports.ts";
import { REPO_ROOT } from "../../../cli/local/paths.ts";

export interface ClawDev<S> {
  summary: S;
  /** Wall time from spawn to the ready line, ms. */
  readyMs: number;
  stop: () => Promise<void>;
}

export async function startClawDev<S>(args: string[] = [], readyTimeoutMs = 180_000): Promise<ClawDev<S>> {
  const dir = mkdtempSync(join(tmpdir(), "claw-dev-"));
  const port = await freePort();
  const t0 = Date.now();
  const argv = [join(REPO_ROOT, "cli", "bin.mjs"), "dev", "--json", "--port", String(port)];
  argv.push("--persist-to", join(dir, "state"));
  const child: ChildProcess = spawn(process.execPath, [...argv, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, CLAW_DEV_STATE_DIR: join(dir, "claw") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  let out = "";
  let err = "";
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  try {
    const summary = await new Promise<S>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`claw dev did not get ready:\n${out}\n${err}`)), readyTimeoutMs);
      child.stdout!.on("data", (c: Buffer) => {
        out += c.toString();
        // Only a whole line: a chunk may end mid-line.
        const line = out
          .split("\n")
          .slice(0, -1)
          .find((l) => l.startsWith("{"));
        if (!line) return;
        clearTimeout(timer);
        const parsed = JSON.parse(line) as S | { error: unknown };
        // `--json` prints its error object on stdout too: that is a failed start, not a summary.
        if (typeof parsed === "object" && parsed !== null && "error" in parsed) {
          reject(new Error(`claw dev failed to start: ${line}\n${err}`));
        } else resolve(parsed as S);
      });
      child.once("exit", (code) => reject(new Error(`claw dev exited (${code}):\n${out}\n${err}`)));
    });
    return { summary, readyMs: Date.now() - t0, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
