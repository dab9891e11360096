// Child processes of the local stack: started with their output captured, stopped together
// (also when the parent exits), and never left behind.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

const running = new Set<ChildProcess>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const killAll = () => {
    for (const child of running) child.kill("SIGTERM");
  };
  process.once("exit", killAll);
}

export interface Managed {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

export function startProcess(
  command: string,
  args: string[],
  options: SpawnOptions & { echo?: boolean } = {},
): Managed {
  hookExit();
  // detached: the child leads its own process group, so stop() also reaches its children (workerd).
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], detached: true, ...options });
  running.add(child);
  let log = "";
  const capture = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-64 * 1024);
    if (options.echo) process.stderr.write(chunk);
  };
  child.stdout?.on("data", capture);
  child.stderr?.on("data", capture);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", () => running.delete(child));
  return {
    child,
    output: () => log,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup(child, "SIGTERM");
      const timer = setTimeout(() => signalGroup(child, "SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/** Runs a command to completion; rejects with its output when it fails. */
export function runToCompletion(command: string, args: string[], options: SpawnOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
    let out = "";
    child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(" ")} exited with ${code}:\n${out}`)),
    );
  });
}
