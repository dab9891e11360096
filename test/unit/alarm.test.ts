// The one alarm scheduler of both Durable Objects: earliest due wins, an armed alarm never moves
// later, a fired alarm is spent, a failed setAlarm is retried by the next arm.
import { describe, expect, it } from "vitest";
import { AlarmScheduler, type AlarmStorage, earliest } from "../../objects/shared/alarm.ts";

/** Storage with one alarm slot that records every setAlarm; `failNext` makes the next one reject. */
function slot(initial: number | null = null) {
  const s = {
    alarm: initial,
    sets: [] as number[],
    failNext: false,
    async getAlarm() {
      return s.alarm;
    },
    async setAlarm(at: number) {
      s.sets.push(at);
      if (s.failNext) {
        s.failNext = false;
        throw new Error("storage busy");
      }
      s.alarm = at;
    },
  };
  return s satisfies AlarmStorage;
}

describe("earliest", () => {
  it("takes the smallest finite time and ignores null, undefined and Infinity", () => {
    expect(earliest(30, null, 10, undefined, Infinity, 20)).toBe(10);
    expect(earliest(null, undefined, Infinity)).toBeNull();
    expect(earliest()).toBeNull();
  });
});

describe("AlarmScheduler", () => {
  it("arms the earliest time asked for and never moves an armed alarm later", async () => {
    const storage = slot();
    const alarms = new AlarmScheduler(storage);
    expect(await alarms.load()).toBeNull();
    alarms.arm(500);
    alarms.arm(900);
    alarms.arm(200);
    alarms.arm(Number.NaN);
    await Promise.resolve();
    expect(storage.sets).toEqual([500, 200]);
    expect(alarms.armedAt).toBe(200);
    expect(storage.alarm).toBe(200);
  });

  it("starts from the stored alarm, and a fired alarm lets any time be armed again", async () => {
    const storage = slot(300);
    const alarms = new AlarmScheduler(storage);
    await alarms.load();
    alarms.arm(400);
    expect(storage.sets).toEqual([]); // 300 is earlier
    alarms.fired();
    expect(alarms.armedAt).toBeNull();
    alarms.rearm(null, 800, undefined, 700);
    expect(storage.sets).toEqual([700]);
    alarms.fired();
    alarms.rearm(null, undefined);
    expect(storage.sets).toEqual([700]); // nothing due: nothing armed
    expect(alarms.armedAt).toBeNull();
  });

  it("clears the mirror when setAlarm fails, so the next arm tries again", async () => {
    const storage = slot();
    const alarms = new AlarmScheduler(storage);
    storage.failNext = true;
    alarms.arm(100);
    await new Promise((r) => setTimeout(r, 0));
    expect(alarms.armedAt).toBeNull();
    alarms.arm(150);
    await Promise.resolve();
    expect(storage.sets).toEqual([100, 150]);
    expect(storage.alarm).toBe(150);
  });

  it("refresh reads the stored alarm, not the mirror (a lost alarm is seen)", async () => {
    const storage = slot();
    const alarms = new AlarmScheduler(storage);
    alarms.arm(100);
    storage.alarm = null; // lost
    expect(await alarms.refresh()).toBeNull();
    alarms.arm(100);
    expect(storage.sets).toEqual([100, 100]);
  });
});
