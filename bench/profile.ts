// CPU profile of the dispatcher under load, through workerd's inspector (DevTools protocol):
// `BENCH_ONLY=profile npm run bench` (BENCH_PROFILE_PATH picks the URL path, default the metered
// free dataset call). Prints each isolate's heaviest functions by self time and by total time
// (bench/profile-summary.ts: the time between samples far apart is left out, not charged), so
// a change to the hot path is aimed at what the samples show, and its effect measured by the
// same-run ratios elsewhere in bench/. BENCH_PROFILE_OUT=<prefix> also writes each isolate's raw
// profile to <prefix>.<n>.cpuprofile (DevTools opens it, for the call tree).
import { writeFileSync } from "node:fs";
import WebSocket from "ws";
import { load } from "./load.ts";
import { summarise, type Profile } from "./profile-summary.ts";

/** The sampling interval asked of the profiler, and the sample spacing above which time is a gap. */
const SAMPLING_INTERVAL_US = 200;
const GAP_MS = 1;

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

/** Profiles every inspectable isolate while `drive` runs; `drive` says what it did. */
export async function profileWhile(inspectorPort: number, drive: () => Promise<string>): Promise<string[]> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as Target[];
  const sessions = await Promise.all(targets.map((t) => session(t.webSocketDebuggerUrl)));
  for (const s of sessions) {
    await s.send("Profiler.enable");
    await s.send("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
    await s.send("Profiler.start");
  }
  const lines = [await drive(), ``];
  for (const [i, s] of sessions.entries()) {
    const { profile } = (await s.send("Profiler.stop")) as { profile: Profile };
    s.close();
    if (process.env.BENCH_PROFILE_OUT)
      writeFileSync(`${process.env.BENCH_PROFILE_OUT}.${i}.cpuprofile`, JSON.stringify(profile));
    lines.push(`### isolate ${targets[i]!.title}`, ``, ...summarise(profile, { gapMs: GAP_MS }), ``);
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
