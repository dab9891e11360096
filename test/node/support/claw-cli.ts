// Runs the real `claw` binary (cli/bin.mjs) in a child process with an isolated config dir. A
// `npm start` running in the checkout is ignored (CLAW_LOCAL=0) unless a test asks for it.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../../../cli/local/paths.ts";

export interface ClawResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The last stdout line parsed as JSON (for --json runs), or null. */
  json: any;
}

export function claw(
  args: string[],
  env: Record<string, string | undefined> = {},
  cwd = REPO_ROOT,
): Promise<ClawResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, "cli", "bin.mjs"), ...args],
      {
        cwd,
        env: {
          ...process.env,
          CLAW_API_KEY: undefined,
          CLAW_API_URL: undefined,
          CLAW_LOCAL: "0",
          ...env,
        } as NodeJS.ProcessEnv,
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === "number"
            ? (err as { code: number }).code
            : 1
          : 0;
        let json: any = null;
        try {
          json = JSON.parse(stdout.trim().split("\n").at(-1) ?? "");
        } catch {
          // not JSON
        }
        resolve({ code, stdout, stderr, json });
      },
    );
  });
}
