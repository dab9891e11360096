// One alarm per Durable Object, shared by every job that needs to wake it (docs/ARCHITECTURE.md
// §4, §7). A DO has a single alarm slot; each job asks for a time and the earliest wins. The
// scheduler keeps a mirror of the stored alarm so synchronous code (an admit, an ingest) can ask
// for a time without an `await getAlarm()`, and never moves an armed alarm later.
//
// Use:
//   constructor: this.alarms = new AlarmScheduler(ctx.storage);
//                void ctx.blockConcurrencyWhile(() => this.alarms.load());
//   anywhere:    this.alarms.arm(at)                 // moves the alarm only earlier; synchronous
//   alarm():     this.alarms.fired();                // first: the alarm that woke us is spent
//                ...run the jobs...
//                this.alarms.rearm(jobA.dueAt(), jobB.dueAt());  // earliest due wins; null = nothing
//   a lost alarm: if ((await this.alarms.refresh()) === null) this.alarms.arm(...)

/** The slice of DurableObjectStorage the scheduler uses. */
export interface AlarmStorage {
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTime: number): Promise<void>;
}

/** The earliest finite time among `times`, or null when there is none. */
export function earliest(...times: readonly (number | null | undefined)[]): number | null {
  let best = Infinity;
  for (const t of times) if (typeof t === "number" && t < best) best = t;
  return Number.isFinite(best) ? best : null;
}

export class AlarmScheduler {
  /** Mirror of the stored alarm (null = none armed, as far as we know). */
  private at: number | null = null;

  constructor(private readonly storage: AlarmStorage) {}

  /** Reads the stored alarm into the mirror (call once, inside blockConcurrencyWhile). */
  async load(): Promise<number | null> {
    this.at = await this.storage.getAlarm();
    return this.at;
  }

  /** Re-reads the stored alarm: the stored one, not the mirror, decides whether one is armed. */
  refresh(): Promise<number | null> {
    return this.load();
  }

  /** When the alarm is armed, per the mirror. */
  get armedAt(): number | null {
    return this.at;
  }

  /**
   * Arms the alarm at `at` unless it is already armed at or before it. setAlarm is not awaited
   * so callers stay synchronous; if it fails the mirror is cleared and the next arm tries again.
   */
  arm(at: number): void {
    if (!Number.isFinite(at)) return;
    if (this.at !== null && this.at <= at) return;
    this.at = at;
    this.storage.setAlarm(at).catch(() => {
      this.at = null;
    });
  }

  /** The alarm fired: nothing is armed any more until someone arms it again. */
  fired(): void {
    this.at = null;
  }

  /** After an alarm run: arms the earliest of `times` (ignoring null and non-finite ones). */
  rearm(...times: readonly (number | null | undefined)[]): void {
    const next = earliest(...times);
    if (next !== null) this.arm(next);
  }
}
