// Owns: running a local anvil node for the payment stack: resolving the binary, picking a free
// 127.0.0.1 port, waiting until JSON-RPC answers, and making sure the process dies with us.
//
// Why the native binary and not node_modules/.bin/anvil: that .bin entry is a Node wrapper
// (@foundry-rs/anvil/bin.mjs) that spawns the platform binary as *its* child. Killing the
// wrapper with SIGKILL (or it dying any way other than SIGINT/SIGTERM) orphans the real anvil,
// which then keeps its port and CPU. We resolve @foundry-rs/anvil-<os>-<arch>/bin/anvil the
// same way the wrapper does and only fall back to the wrapper if that fails.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { freePort } from "../local/ports.ts";

export type AnvilOptions = {
  /** EIP-155 chain id; default 84532 (Base Sepolia) so the x402 network is `eip155:84532`. */
  chainId?: number;
  /** Fixed port; default: a free port chosen at start. */
  port?: number;
  /** Extra CLI flags, e.g. ["--block-time", "1"] (default is automine: one block per tx). */
  extraArgs?: string[];
  /** Give up if RPC does not answer within this time (default 15 s). */
  startTimeoutMs?: number;
};

export type AnvilInstance = {
  rpcUrl: string;
  chainId: number;
  port: number;
  pid: number;
  /** Last lines anvil wrote to stderr (it runs with --silent, so normally empty). */
  stderr(): string;
  /** Stop the node (SIGTERM, then SIGKILL after 2 s). Idempotent. */
  stop(): Promise<void>;
};

export const DEFAULT_CHAIN_ID = 84532;

const require = createRequire(import.meta.url);

/** Absolute path of the anvil executable shipped by the @foundry-rs/anvil npm package. */
export function anvilBinaryPath(): string {
  const os = process.platform; // linux | darwin | win32 are the published builds
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const exe = os === "win32" ? "anvil.exe" : "anvil";
  try {
    const native = require.resolve(`@foundry-rs/anvil-${os}-${arch}/bin/${exe}`);
    if (existsSync(native)) return native;
  } catch {
    // fall through to the wrapper
  }
  const wrapper = fileURLToPath(new URL(`../../node_modules/.bin/${exe}`, import.meta.url));
  if (existsSync(wrapper)) return wrapper;
  throw new Error(
    `anvil binary not found (looked for @foundry-rs/anvil-${os}-${arch} and ${wrapper}); run npm install`,
  );
}

// Free ports come from the CLI's shared helper; racy by nature, so startAnvil retries on a clash.
export { freePort };

// ---------------------------------------------------------------- process-exit safety net
// Children we started and have not stopped yet. On normal exit we SIGKILL them synchronously.
// On SIGINT/SIGTERM/SIGHUP Node would die without running 'exit' handlers, so we also listen
// for those; if we are the only listener we then re-raise the signal so the process still
// terminates the way it would have without us (same technique as anvil's own npm wrapper).
const liveChildren = new Set<ChildProcess>();
let safetyNetInstalled = false;

function killAllNow(): void {
  for (const child of liveChildren) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
}

function installSafetyNet(): void {
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  process.once("exit", killAllNow);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      killAllNow();
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

// ---------------------------------------------------------------- start

async function rpcAnswers(rpcUrl: string): Promise<boolean> {
  try {
    const res = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(1000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

/** Start anvil on 127.0.0.1 and resolve once its JSON-RPC answers. */
export async function startAnvil(opts: AnvilOptions = {}): Promise<AnvilInstance> {
  const attempts = opts.port ? 1 : 5;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = opts.port ?? (await freePort());
    try {
      return await startOnce(port, opts);
    } catch (err) {
      lastError = err;
      // Another process grabbed the port between freePort() and anvil's bind: try a new one.
      if (!(err instanceof PortInUseError)) throw err;
    }
  }
  throw lastError;
}

class PortInUseError extends Error {}

async function startOnce(port: number, opts: AnvilOptions): Promise<AnvilInstance> {
  const chainId = opts.chainId ?? DEFAULT_CHAIN_ID;
  const args = [
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--chain-id",
    String(chainId),
    // --silent: anvil otherwise logs every RPC call to stdout, which costs CPU under load.
    "--silent",
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(anvilBinaryPath(), args, { stdio: ["ignore", "ignore", "pipe"] });
  installSafetyNet();
  liveChildren.add(child);

  // Keep a bounded tail of stderr for error messages.
  let stderrTail = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-8192);
  });

  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true;
      liveChildren.delete(child);
      resolve();
    });
    child.once("error", (err) => {
      stderrTail += `\nspawn error: ${err.message}`;
      exited = true;
      liveChildren.delete(child);
      resolve();
    });
  });

  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
    await exitPromise;
    clearTimeout(timer);
  };

  const rpcUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
  while (!(await rpcAnswers(rpcUrl))) {
    if (exited) {
      if (/address already in use|os error 98|EADDRINUSE/i.test(stderrTail)) throw new PortInUseError(stderrTail);
      throw new Error(`anvil exited during startup (exit code ${child.exitCode}): ${stderrTail.trim()}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `anvil did not answer on ${rpcUrl} within ${opts.startTimeoutMs ?? 15_000} ms: ${stderrTail.trim()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  if (exited) throw new Error(`anvil exited right after startup: ${stderrTail.trim()}`);

  return { rpcUrl, chainId, port, pid: child.pid ?? -1, stderr: () => stderrTail, stop };
}
