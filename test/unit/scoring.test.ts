// The pure scorer (objects/leaderboard/scoring.ts): the formula of docs/ARCHITECTURE.md §7 factor
// by factor, and the anti-gaming scenarios the issue asks for, on hand-built inputs.
import { describe, expect, it } from "vitest";
import {
  burstFactor,
  compareForRanking,
  concentrationFactor,
  latencyFactor,
  payerWeight,
  SCORING,
  scoreApi,
  wilsonLowerBound,
  type PayerInput,
  type ScoreInput,
} from "../../objects/leaderboard/scoring.ts";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function payer(name: string, calls: number, over: Partial<PayerInput> = {}): PayerInput {
  return { payer: name, calls, failures: 0, linked: false, singleCreator: false, firstSeenMs: NOW - 30 * DAY, ...over };
}

function input(payers: PayerInput[], over: Partial<ScoreInput> = {}): ScoreInput {
  const total = payers.filter((p) => !p.linked).reduce((t, p) => t + p.calls, 0);
  // Default: traffic spread evenly over a day (peak hour = 1/24 of the calls).
  return { payers, windowEndMs: NOW, peakHourCalls: Math.ceil(total / 24), p95Ms: 120, ...over };
}

describe("factors", () => {
  it("Wilson lower bound: 0 without attempts, small samples prove little", () => {
    expect(wilsonLowerBound(0, 0)).toBe(0);
    expect(wilsonLowerBound(4, 4)).toBeCloseTo(0.51, 2);
    expect(wilsonLowerBound(990, 1000)).toBeCloseTo(0.9817, 3);
    expect(wilsonLowerBound(4, 4)).toBeLessThan(wilsonLowerBound(990, 1000));
    expect(wilsonLowerBound(0, 10)).toBe(0);
  });

  it("latency factor: 1 up to 1 s p95, linear to the 0.5 floor at 5 s, 1 without data", () => {
    expect(latencyFactor(null)).toBe(1);
    expect(latencyFactor(200)).toBe(1);
    expect(latencyFactor(1000)).toBe(1);
    expect(latencyFactor(3000)).toBe(0.75);
    expect(latencyFactor(5000)).toBe(0.5);
    expect(latencyFactor(60_000)).toBe(0.5);
  });

  it("concentration: no penalty up to a 50 % top payer, half at 100 %", () => {
    expect(concentrationFactor(0.1)).toBe(1);
    expect(concentrationFactor(0.5)).toBe(1);
    expect(concentrationFactor(0.75)).toBe(0.75);
    expect(concentrationFactor(1)).toBe(0.5);
  });

  it("burst: no penalty up to 25 % of the calls in one hour, half when all are", () => {
    expect(burstFactor(1 / 24)).toBe(1);
    expect(burstFactor(0.25)).toBe(1);
    expect(burstFactor(0.625)).toBe(0.75);
    expect(burstFactor(1)).toBe(0.5);
  });

  it("payer weights: linked 0, single-creator and new halve and multiply", () => {
    const old = NOW - 2 * DAY;
    const fresh = NOW - HOUR;
    expect(payerWeight({ linked: true, singleCreator: false, firstSeenMs: old }, NOW)).toBe(0);
    expect(payerWeight({ linked: false, singleCreator: false, firstSeenMs: old }, NOW)).toBe(1);
    expect(payerWeight({ linked: false, singleCreator: true, firstSeenMs: old }, NOW)).toBe(0.5);
    expect(payerWeight({ linked: false, singleCreator: false, firstSeenMs: fresh }, NOW)).toBe(0.5);
    expect(payerWeight({ linked: false, singleCreator: true, firstSeenMs: fresh }, NOW)).toBe(0.25);
    // exactly 24 h old is no longer new
    expect(payerWeight({ linked: false, singleCreator: false, firstSeenMs: NOW - DAY }, NOW)).toBe(1);
  });

  it("the score is exactly D · Q · C · B with every factor reported", () => {
    const b = scoreApi(
      input([payer("a", 3), payer("b", 1), payer("c", 1, { failures: 1 })], { peakHourCalls: 5, p95Ms: 3000 }),
    );
    expect(b.D).toBeCloseTo(Math.log2(4) + 2 * Math.log2(2), 12);
    expect(b.successes).toBe(5);
    expect(b.attempts).toBe(6);
    expect(b.wilson).toBeCloseTo(wilsonLowerBound(5, 6), 12);
    expect(b.latencyFactor).toBe(0.75);
    expect(b.Q).toBeCloseTo(b.wilson * 0.75, 12);
    expect(b.topPayerShare).toBeCloseTo(0.6, 12);
    expect(b.C).toBeCloseTo(1 - 0.5 * 0.2, 12);
    expect(b.peakHourShare).toBe(1);
    expect(b.B).toBe(0.5);
    expect(b.score).toBeCloseTo(b.D * b.Q * b.C * b.B, 12);
    // HHI = 0.36 + 0.04 + 0.04 = 0.44
    expect(b.effectivePayers).toBeCloseTo(1 / 0.44, 12);
    expect(b.weightedPayers).toBe(3);
    expect(b.status).toBe("ranked");
  });

  it("effective payers: n equal payers → n", () => {
    const b = scoreApi(input([payer("a", 7), payer("b", 7), payer("c", 7), payer("d", 7)]));
    expect(b.effectivePayers).toBeCloseTo(4, 12);
    expect(b.topPayerShare).toBe(0.25);
    expect(b.C).toBe(1);
  });
});

describe("scenarios", () => {
  it("a self-dealing creator (payTo pays itself 1,000,000 times) scores 0 and is not ranked", () => {
    const b = scoreApi(input([payer("0xpayto", 1_000_000, { linked: true })], { peakHourCalls: 0 }));
    expect(b.score).toBe(0);
    expect(b.D).toBe(0);
    expect(b.status).toBe("emerging");
    expect(b.linkedCalls).toBe(1_000_000);
    expect(b.successes).toBe(0);
    expect(b.payers).toEqual({ counted: 0, linked: 1, singleCreator: 0, new: 0 });
  });

  it("self-dealing next to a few real payers adds nothing", () => {
    const real = [payer("a", 5), payer("b", 5), payer("c", 5)];
    const honest = scoreApi(input(real));
    const washed = scoreApi(input([...real, payer("0xpayto", 1_000_000, { linked: true })]));
    expect(washed.score).toBe(honest.score);
  });

  it("100 fresh single-creator wallets × 1 call rank below 50 established payers × 10 calls", () => {
    const sybils = Array.from({ length: 100 }, (_, i) =>
      payer(`s${i}`, 1, { singleCreator: true, firstSeenMs: NOW - HOUR }),
    );
    // even if the established payers also only ever paid this creator
    const real = Array.from({ length: 50 }, (_, i) =>
      payer(`r${i}`, 10, { singleCreator: true, firstSeenMs: NOW - 20 * DAY }),
    );
    const s = scoreApi(input(sybils, { peakHourCalls: 100 }));
    const r = scoreApi(input(real));
    expect(s.weightedPayers).toBe(25);
    expect(r.weightedPayers).toBe(25);
    expect(r.score).toBeGreaterThan(s.score * 3);
    expect(
      compareForRanking(
        { slug: "sybil", score: s.score, status: s.status, calls: 100 },
        { slug: "real", score: r.score, status: r.status, calls: 500 },
      ),
    ).toBeGreaterThan(0);
  });

  it("a one-hour burst is penalised against the same traffic spread over the day", () => {
    const payers = Array.from({ length: 20 }, (_, i) => payer(`p${i}`, 24));
    const spread = scoreApi(input(payers, { peakHourCalls: 20 }));
    const burst = scoreApi(input(payers, { peakHourCalls: 480 }));
    expect(spread.B).toBe(1);
    expect(burst.B).toBe(0.5);
    expect(burst.score).toBeCloseTo(spread.score / 2, 9);
  });

  it("Wilson: 4/4 successes does not beat 990/1000", () => {
    const four = scoreApi(input([payer("a", 1), payer("b", 1), payer("c", 1), payer("d", 1)], { peakHourCalls: 1 }));
    const many = scoreApi(
      input(
        [
          payer("a", 248, { failures: 3 }),
          payer("b", 247, { failures: 3 }),
          payer("c", 248, { failures: 2 }),
          payer("d", 247, { failures: 2 }),
        ],
        { peakHourCalls: 42 },
      ),
    );
    expect(four.successes / four.attempts).toBe(1);
    expect(many.successes).toBe(990);
    expect(many.attempts).toBe(1000);
    expect(four.Q).toBeLessThan(many.Q);
    expect(four.score).toBeLessThan(many.score);
  });

  it("one whale buying most calls is penalised by C", () => {
    const b = scoreApi(input([payer("whale", 900), payer("a", 50), payer("b", 50)]));
    expect(b.topPayerShare).toBe(0.9);
    expect(b.C).toBeCloseTo(0.6, 12);
  });

  it("below the minimum weighted payers an API is emerging, however good", () => {
    const b = scoreApi(input([payer("a", 100), payer("b", 100)]));
    expect(b.score).toBeGreaterThan(0);
    expect(b.weightedPayers).toBe(2);
    expect(b.status).toBe("emerging");
    const lower = scoreApi(input([payer("a", 100), payer("b", 100)]), { ...SCORING, minWeightedPayers: 2 });
    expect(lower.status).toBe("ranked");
  });

  it("a payer with only failures adds attempts but no demand", () => {
    const b = scoreApi(input([payer("a", 10), payer("b", 10), payer("c", 10), payer("broken", 0, { failures: 30 })]));
    expect(b.D).toBeCloseTo(3 * Math.log2(11), 12);
    expect(b.attempts).toBe(60);
    expect(b.payers.counted).toBe(3);
  });

  it("scores do not depend on the order payers arrive in", () => {
    const payers = Array.from({ length: 50 }, (_, i) =>
      payer(`p${i}`, (i % 7) + 1, { singleCreator: i % 3 === 0, firstSeenMs: NOW - (i % 2) * 2 * DAY }),
    );
    const a = scoreApi(input(payers));
    const b = scoreApi(input([...payers].reverse()));
    expect(b).toEqual(a);
  });
});
