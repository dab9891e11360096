// Owns: unit tests of the facilitator's pure settlement-sender logic (cli/stack/settle-queue.ts):
// the serial queue (order, one at a time, bounded wait), nonce choice and stuck-nonce healing.
import { describe, expect, it } from "vitest";
import { chooseNonce, planHeal, QueueTimeoutError, SerialQueue, type HealInput } from "../../cli/stack/settle-queue.ts";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("SerialQueue", () => {
  it("runs jobs one at a time, in arrival order, and reports depth and running", async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const job = (name: string, ms: number) => async () => {
      concurrent += 1;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      log.push(`start ${name}`);
      await sleep(ms);
      log.push(`end ${name}`);
      concurrent -= 1;
      return name;
    };
    const results = [queue.run(job("a", 30)), queue.run(job("b", 5)), queue.run(job("c", 1))];
    expect(queue.running).toBe(true);
    expect(queue.depth).toBe(2);
    expect(await Promise.all(results)).toEqual(["a", "b", "c"]);
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
    expect(maxConcurrent).toBe(1);
    expect(queue.running).toBe(false);
    expect(queue.depth).toBe(0);
  });

  it("keeps going after a job that rejects or throws synchronously", async () => {
    const queue = new SerialQueue();
    const failing = queue.run(async () => {
      throw new Error("boom");
    });
    const throwing = queue.run((() => {
      throw new Error("sync boom");
    }) as () => Promise<never>);
    const after = queue.run(async () => "still runs");
    await expect(failing).rejects.toThrow("boom");
    await expect(throwing).rejects.toThrow("sync boom");
    expect(await after).toBe("still runs");
  });

  it("refuses a job that waited too long, without running it, and leaves the rest in order", async () => {
    const queue = new SerialQueue();
    let ranLate = false;
    const slow = queue.run(() => sleep(80).then(() => "slow"));
    const late = queue.run(async () => {
      ranLate = true;
    }, 20);
    const patient = queue.run(async () => "patient", 5_000);
    await expect(late).rejects.toBeInstanceOf(QueueTimeoutError);
    expect(queue.depth).toBe(1);
    expect(await slow).toBe("slow");
    expect(await patient).toBe("patient");
    expect(ranLate).toBe(false);
  });
});

describe("chooseNonce", () => {
  it("takes the mined nonce when nothing is outstanding", () => {
    expect(chooseNonce(7, [])).toBe(7);
  });

  it("goes past outstanding transactions and ignores ones the chain already covers", () => {
    expect(chooseNonce(7, [7, 8])).toBe(9);
    expect(chooseNonce(7, [3, 5, 6])).toBe(7);
  });

  it("fills a hole before going higher, so a gap cannot persist", () => {
    expect(chooseNonce(7, [8, 9])).toBe(7);
    expect(chooseNonce(7, [7, 9])).toBe(8);
  });

  it("is never below the mined nonce and never an outstanding one (all small cases)", () => {
    for (let mined = 0; mined < 5; mined++) {
      for (let mask = 0; mask < 1 << 8; mask++) {
        const outstanding = [...Array(8).keys()].filter((n) => mask & (1 << n));
        const nonce = chooseNonce(mined, outstanding);
        expect(nonce).toBeGreaterThanOrEqual(mined);
        expect(outstanding).not.toContain(nonce);
        // Lowest free: every nonce between mined and it is taken.
        for (let n = mined; n < nonce; n++) expect(outstanding).toContain(n);
      }
    }
  });
});

describe("planHeal", () => {
  const base: HealInput = {
    minedNonce: 10,
    outstanding: [10, 11],
    lowestPoolState: "queued",
    stalledMs: 5_000,
    stuckAfterMs: 1_000,
  };

  it("waits while not stalled long enough, or when nothing is outstanding", () => {
    expect(planHeal({ ...base, stalledMs: 999 })).toEqual({ kind: "wait" });
    expect(planHeal({ ...base, outstanding: [] })).toEqual({ kind: "wait" });
    expect(planHeal({ ...base, outstanding: [8, 9] })).toEqual({ kind: "wait" });
  });

  it("requeues a transaction parked in the queued set although its nonce is the mined one", () => {
    expect(planHeal(base)).toEqual({ kind: "requeue", nonce: 10 });
  });

  it("rebroadcasts a transaction the pool lost", () => {
    expect(planHeal({ ...base, lowestPoolState: "absent" })).toEqual({ kind: "rebroadcast", nonce: 10 });
  });

  it("fills the gap when later transactions wait on a nonce we no longer hold", () => {
    const action = planHeal({ ...base, outstanding: [11, 12], lowestPoolState: undefined });
    expect(action).toEqual({ kind: "fill-gap", nonce: 10 });
  });

  it("leaves a ready transaction alone: the chain is not mining (automine off), not wedged", () => {
    expect(planHeal({ ...base, lowestPoolState: "ready" })).toEqual({ kind: "wait" });
  });
});
