// The benchmark's CPU-profile reading (bench/profile-summary.ts): time between samples far apart
// is a gap, reported apart and never charged to the sample after it; what is charged adds up.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { profileTotals, summarise, type Profile } from "../../bench/profile-summary.ts";

const frame = (functionName: string, lineNumber = 0) => ({ functionName, url: "file:///x/index.js", lineNumber });

// (root) → handler → work; (root) → flush (a function a timer wakes).
const nodes: Profile["nodes"] = [
  { id: 1, callFrame: frame("(root)"), children: [2, 4] },
  { id: 2, callFrame: frame("handler", 10), children: [3] },
  { id: 3, callFrame: frame("work", 20) },
  { id: 4, callFrame: frame("flush", 30) },
];

describe("profileTotals", () => {
  it("leaves a gap out of the function sampled after it", () => {
    // work, work, then 40 ms without samples, then flush.
    const profile: Profile = { nodes, samples: [3, 3, 4], timeDeltas: [200, 300, 40_000] };
    const t = profileTotals(profile, 1);
    expect(t.gapMs).toBe(40);
    expect(t.gaps).toBe(1);
    expect(t.sampledMs).toBeCloseTo(0.5);
    expect(t.self.get("flush x/index.js:31")).toBeUndefined();
    expect(t.self.get("work x/index.js:21")).toBeCloseTo(0.5);
    expect(t.total.get("handler x/index.js:11")).toBeCloseTo(0.5);
    expect(t.total.get("(root) x/index.js:1")).toBeCloseTo(0.5);
  });

  it("charges every delta up to the gap limit, once to self and once to each caller", () => {
    const sample = fc.record({ node: fc.constantFrom(2, 3, 4), us: fc.integer({ min: 0, max: 5_000 }) });
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 60 }), fc.integer({ min: 0, max: 3 }), (list, gapMs) => {
        const profile: Profile = { nodes, samples: list.map((s) => s.node), timeDeltas: list.map((s) => s.us) };
        const t = profileTotals(profile, gapMs);
        const all = list.reduce((sum, s) => sum + s.us / 1000, 0);
        expect(t.sampledMs + t.gapMs).toBeCloseTo(all);
        expect(t.gaps).toBe(list.filter((s) => s.us / 1000 > gapMs).length);
        const selfSum = [...t.self.values()].reduce((a, b) => a + b, 0);
        expect(selfSum).toBeCloseTo(t.sampledMs);
        expect(t.total.get("(root) x/index.js:1") ?? 0).toBeCloseTo(t.sampledMs);
      }),
    );
  });

  it("counts a recursive function once per sample in its total", () => {
    const recursive: Profile["nodes"] = [
      { id: 1, callFrame: frame("(root)"), children: [2] },
      { id: 2, callFrame: frame("walk", 5), children: [3] },
      { id: 3, callFrame: frame("walk", 5) },
    ];
    const t = profileTotals({ nodes: recursive, samples: [3], timeDeltas: [500] }, 1);
    expect(t.total.get("walk x/index.js:6")).toBeCloseTo(0.5);
  });
});

describe("summarise", () => {
  it("says how much time it left out and ranks what it charged", () => {
    const profile: Profile = { nodes, samples: [3, 4, 2], timeDeltas: [600, 9_000, 300] };
    const lines = summarise(profile, { gapMs: 1, top: 5 });
    expect(lines[0]).toContain("sampled 1 ms");
    expect(lines[0]).toContain("not attributed: 9 ms in 1 gaps");
    const selfRows = lines.slice(4, lines.indexOf("", 4));
    expect(selfRows).toEqual(["| 1 | 66.7 % | `work x/index.js:21` |", "| 0 | 33.3 % | `handler x/index.js:11` |"]);
  });
});
