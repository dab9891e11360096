// The dispatcher's own socket under `wrangler dev`, for the benchmarks only. wrangler dev runs two
// workerd processes: a ProxyWorker on `--port`, which forwards every request to a second workerd
// that runs the dispatcher on a socket of a random port. Production has no such proxy, and on the
// AMD EPYC machines the hop costs 1.5-2 ms per sequential call (BENCHMARKS.md), which the dataset
// target (an absolute latency) pays in full. wrangler does not say which port that is, so this
// reads it off Linux's /proc: the listening loopback sockets of the workerd processes under the
// wrangler process, minus those of the process that owns `--port`, kept if they answer the
// dispatcher's own /health. Null where that cannot be found (another OS, another wrangler layout):
// the bench then reports the proxied figures only.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

function parentOf(pid: string): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] ?? null;
  } catch {
    return null;
  }
}

function commOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** Every process below `root` (children, their children, …). */
function descendants(root: number): string[] {
  const pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  const parent = new Map(pids.map((pid) => [pid, parentOf(pid)]));
  const below = new Set([String(root)]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (ppid && below.has(ppid) && !below.has(pid)) {
        below.add(pid);
        grew = true;
      }
    }
  }
  below.delete(String(root));
  return [...below];
}

/** Listening IPv4 loopback ports by socket inode (/proc/net/tcp, state 0A). */
function listeningLoopback(): Map<string, number> {
  const byInode = new Map<string, number>();
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== "0A") continue;
    const [address, port] = f[1]!.split(":");
    if (address === "0100007F") byInode.set(f[9]!, Number.parseInt(port!, 16));
  }
  return byInode;
}

function socketPorts(pid: string, listening: Map<string, number>): number[] {
  const ports: number[] = [];
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      const port = m ? listening.get(m[1]!) : undefined;
      if (port !== undefined) ports.push(port);
    }
  } catch {
    // the process ended meanwhile
  }
  return ports;
}

async function answersHealth(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
    const body = (await res.json()) as { service?: unknown };
    return res.ok && body.service === "402claw";
  } catch {
    return false;
  }
}

/** `http://127.0.0.1:<port>` of the dispatcher's workerd socket under wrangler process `wranglerPid`, or null. */
export async function directDispatcherUrl(wranglerPid: number, proxyPort: number): Promise<string | null> {
  if (process.platform !== "linux") return null;
  const listening = listeningLoopback();
  const workerds = descendants(wranglerPid).filter((pid) => commOf(pid) === "workerd");
  const ports = new Map(workerds.map((pid) => [pid, socketPorts(pid, listening)]));
  for (const [, owned] of ports) {
    if (owned.includes(proxyPort)) continue;
    for (const port of owned) {
      const url = `http://127.0.0.1:${port}`;
      if (await answersHealth(url)) return url;
    }
  }
  return null;
}
