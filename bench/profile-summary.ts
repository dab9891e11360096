// Reading a V8 CPU profile (DevTools `Profiler.stop`) into self and total time per function, for
// bench/profile.ts. Pure.
//
// A sample's time is the delta since the previous sample. workerd's sampler takes a sample only
// while the isolate runs JavaScript and the sampler thread gets the CPU, so under load most of the
// wall time falls into gaps between samples, several milliseconds each (measured: 7.7 of 8.2 s of
// a free-call profile, BENCHMARKS.md). Charging a gap to the sample after it gave its time to
// whatever ran first after the isolate woke, which is mostly a function resumed by a timer (the
// usage flush, the telemetry sink flush, the paid commit): those looked like 5-9 % of the CPU each
// and were not. So only deltas up to `gapMs` are charged to their sample; the gaps are summed and
// reported on their own, never attributed.

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileTotals {
  /** Milliseconds charged to samples (deltas up to gapMs). */
  sampledMs: number;
  /** Milliseconds between samples further apart than gapMs: not attributed to any function. */
  gapMs: number;
  gaps: number;
  self: Map<string, number>;
  total: Map<string, number>;
}

export const label = (f: CallFrame) =>
  `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}`;

/** Self and total ms per function (by name and place) from the samples at most `gapMs` apart. */
export function profileTotals(profile: Profile, gapMs: number): ProfileTotals {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const out: ProfileTotals = { sampledMs: 0, gapMs: 0, gaps: 0, self: new Map(), total: new Map() };
  const add = (m: Map<string, number>, key: string, ms: number) => m.set(key, (m.get(key) ?? 0) + ms);
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (ms > gapMs) {
      out.gapMs += ms;
      out.gaps += 1;
      return;
    }
    out.sampledMs += ms;
    add(out.self, label(byId.get(id)!.callFrame), ms);
    // A recursive function counts once per sample in its total.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!.callFrame);
      if (!seen.has(l)) add(out.total, l, ms);
      seen.add(l);
    }
  });
  return out;
}

/** The markdown tables bench/profile.ts prints for one isolate, heaviest first. */
export function summarise(profile: Profile, opts: { gapMs: number; top?: number }): string[] {
  const t = profileTotals(profile, opts.gapMs);
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, opts.top ?? 30)
      .map(([l, ms]) => `| ${ms.toFixed(0)} | ${((100 * ms) / t.sampledMs).toFixed(1)} % | \`${l}\` |`);
  return [
    `sampled ${t.sampledMs.toFixed(0)} ms (samples at most ${opts.gapMs} ms apart); ` +
      `not attributed: ${t.gapMs.toFixed(0)} ms in ${t.gaps} gaps between samples (bench/profile-summary.ts says why)`,
    ``,
    `| self ms | share | function |`,
    `| ---: | ---: | --- |`,
    ...rows(t.self),
    ``,
    `| total ms | share | function |`,
    `| ---: | ---: | --- |`,
    ...rows(t.total),
  ];
}
