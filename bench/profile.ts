// CPU profile of the dispatcher under load, through workerd's inspector (DevTools protocol):
// `BENCH_ONLY=profile npm run bench` (BENCH_PROFILE_PATH picks the URL path, default the metered
// free dataset call). Prints each isolate's heaviest functions by self time and by total time, so
// a change to the hot path is aimed at what the samples show, and its effect measured by the
// same-run ratios elsewhere in bench/. BENCH_PROFILE_OUT=<prefix> also writes each isolate's raw
// profile to <prefix>.<n>.cpuprofile (DevTools opens it, for the call tree).
import { writeFileSync } from "node:fs";
import WebSocket from "ws";
import { load } from "./load.ts";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}
interface Target {
  title: string;
  webSocketDebuggerUrl: string;
}

/**
 * One DevTools session: numbered requests, answers matched by id. The `ws` client, because
 * wrangler's inspector proxy refuses Node's built-in WebSocket handshake.
 */
async function session(
  wsUrl: string,
): Promise<{ send: (m: string, p?: object) => Promise<unknown>; close: () => void }> {
  const ws = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let next = 1;
  const waiting = new Map<number, (v: unknown) => void>();
  ws.on("message", (data) => {
    // workerd answers with the id and the method echoed, and "result" only when there is one.
    const msg = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg.result);
  });
  const send = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = next++;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

const label = (f: CallFrame) =>
  `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}`;

/** Self and total milliseconds per function (by name and place), heaviest first. */
export function summarise(profile: Profile, top = 30): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    all += dt;
    const node = byId.get(id)!;
    self.set(label(node.callFrame), (self.get(label(node.callFrame)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!.callFrame);
      if (seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + dt);
    }
  });
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([l, ms]) => `| ${ms.toFixed(0)} | ${((100 * ms) / all).toFixed(1)} % | \`${l}\` |`);
  return [
    `sampled ${all.toFixed(0)} ms`,
    ``,
    `| self ms | share | function |`,
    `| ---: | ---: | --- |`,
    ...rows(self),
    ``,
    `| total ms | share | function |`,
    `| ---: | ---: | --- |`,
    ...rows(total),
  ];
}

/** Profiles every inspectable isolate while `drive` runs; `drive` says what it did. */
export async function profileWhile(inspectorPort: number, drive: () => Promise<string>): Promise<string[]> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as Target[];
  const sessions = await Promise.all(targets.map((t) => session(t.webSocketDebuggerUrl)));
  for (const s of sessions) {
    await s.send("Profiler.enable");
    await s.send("Profiler.setSamplingInterval", { interval: 200 });
    await s.send("Profiler.start");
  }
  const lines = [await drive(), ``];
  for (const [i, s] of sessions.entries()) {
    const { profile } = (await s.send("Profiler.stop")) as { profile: Profile };
    s.close();
    if (process.env.BENCH_PROFILE_OUT)
      writeFileSync(`${process.env.BENCH_PROFILE_OUT}.${i}.cpuprofile`, JSON.stringify(profile));
    lines.push(`### isolate ${targets[i]!.title}`, ``, ...summarise(profile), ``);
  }
  return lines;
}

/** Profiles every inspectable isolate while `url` is under load. */
export function profileUnderLoad(
  inspectorPort: number,
  url: string,
  opts: { seconds: number; connections: number },
): Promise<string[]> {
  return profileWhile(inspectorPort, async () => {
    const result = await load("profiled", url, opts);
    return `Profiled \`${new URL(url).pathname}\`: ${result.requestsPerSec.toFixed(0)} req/s`;
  });
}
