// Runs the dispatcher Worker locally: builds the tenant runtimes, applies D1 migrations to the
// local state, starts `wrangler dev` on 127.0.0.1 and waits until /health answers.
import { delimiter, join } from "node:path";
import { BIN_DIR, REPO_ROOT } from "./paths.ts";
import { runToCompletion, startProcess, type Managed } from "./processes.ts";
import { freePort, isPortFree } from "./ports.ts";

export interface LocalDispatcher {
  url: string;
  port: number;
  /** workerd's inspector (DevTools protocol), e.g. for bench/profile.ts. */
  inspectorPort: number;
  process: Managed;
  stop: () => Promise<void>;
}

export interface DispatcherOptions {
  port?: number;
  /** Directory for local D1/R2/DO state; defaults to .wrangler/state in the repo. */
  persistTo?: string;
  /** Extra wrangler `--var NAME:value` pairs (e.g. facilitator URL). */
  vars?: Record<string, string>;
  echo?: boolean;
  /** Environment for wrangler on top of WRANGLER_ENV (e.g. `X_LOCAL_OBSERVABILITY: "true"`). */
  env?: Record<string, string>;
  /**
   * `port` must be used as given (a user's `claw dev --port`): a clash on it fails. Otherwise `port` is a
   * preference, and a port another process took meanwhile is replaced by a fresh one (the
   * returned `url` is what counts).
   */
  exactPort?: boolean;
  /** Inspector port to try first; always a preference (a clash moves it, even with `exactPort`). */
  inspectorPort?: number;
}

// Wrangler needs Node >= 22: run it with the Node that runs this CLI (the one npm scripts put in
// node_modules/.bin), never whatever `node` the shell's PATH finds first (Node 20 on these machines).
export const WRANGLER_JS = join(REPO_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
// Wrangler 4.156 turns on a local trace collector by default (X_LOCAL_OBSERVABILITY): a streaming
// tail Worker in the same workerd process that receives and stores every span of every request.
// On the dispatcher's one local thread it took a quarter of the CPU in the paid-call bench
// (docs/ARCHITECTURE.md §10); production has no such thing. Off unless the environment asks for
// it (X_LOCAL_OBSERVABILITY=true: traces for wrangler's local explorer).
export const WRANGLER_ENV = {
  ...process.env,
  PATH: `${BIN_DIR}${delimiter}${process.env.PATH ?? ""}`,
  WRANGLER_SEND_METRICS: "false",
  CI: "true",
  NO_COLOR: "1",
  X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false",
};

export async function buildRuntimes(): Promise<void> {
  await runToCompletion(process.execPath, [join(REPO_ROOT, "scripts", "build-runtimes.mjs")], { cwd: REPO_ROOT });
}

export async function applyMigrations(persistTo: string): Promise<void> {
  await runToCompletion(
    process.execPath,
    [WRANGLER_JS, "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo],
    { cwd: REPO_ROOT, env: WRANGLER_ENV },
  );
}

export async function startDispatcher(options: DispatcherOptions = {}): Promise<LocalDispatcher> {
  const persistTo = options.persistTo ?? join(REPO_ROOT, ".wrangler", "state");
  const port = options.port ?? ((await isPortFree(8787)) ? 8787 : await freePort());
  await buildRuntimes();
  await applyMigrations(persistTo);
  return startWranglerDev({ ...options, port, persistTo });
}

/** Starts taken by a port clash before one is given up (a pinned port: only clashes on other ports). */
const PORT_CLASH_ATTEMPTS = 3;

/**
 * `wrangler dev` on 127.0.0.1 for a Worker config (the dispatcher's by default), resolved once
 * `/health` answers. Also used by the benchmarks for their reference Worker.
 */
export async function startWranglerDev(
  options: DispatcherOptions & { config?: string; persistTo: string },
): Promise<LocalDispatcher> {
  let attempt = options;
  for (let n = 1; ; n++) {
    try {
      return await startWranglerDevOnce(attempt);
    } catch (err) {
      // A port picked a while ago can be taken by another process before wrangler binds it.
      const clash = err instanceof Error && err.message.includes("Address already in use");
      if (!clash || n >= PORT_CLASH_ATTEMPTS) throw err;
      // A pinned port is given up only when it is the one taken: any other clash (the inspector's
      // port, picked here) is ours to move. wrangler names the pinned port as 127.0.0.1:<port>.
      const pinnedTaken = err.message.includes(`:${attempt.port})`);
      if (options.exactPort && pinnedTaken) throw err;
      const { inspectorPort: _taken, ...rest } = attempt;
      attempt = options.exactPort ? rest : { ...rest, port: await freePort() };
    }
  }
}

async function startWranglerDevOnce(
  options: DispatcherOptions & { config?: string; persistTo: string },
): Promise<LocalDispatcher> {
  const port = options.port ?? (await freePort());
  const inspectorPort = options.inspectorPort ?? (await freePort());
  const args = [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    options.persistTo,
    "--show-interactive-dev-session=false",
    "--log-level",
    "warn",
  ];
  if (options.config) args.push("--config", options.config);
  for (const [name, value] of Object.entries(options.vars ?? {})) args.push("--var", `${name}:${value}`);
  const proc = startProcess(process.execPath, [WRANGLER_JS, ...args], {
    cwd: REPO_ROOT,
    env: { ...WRANGLER_ENV, ...options.env },
    echo: options.echo ?? false,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(url, proc);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { url, port, inspectorPort, process: proc, stop: proc.stop };
}

async function waitForHealth(url: string, proc: Managed, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`wrangler dev exited early:\n${proc.output()}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`wrangler dev did not answer ${url}/health within ${timeoutMs} ms:\n${proc.output()}`);
}
