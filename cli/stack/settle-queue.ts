// Owns: the pure logic of the facilitator's settlement sender (no chain, no clock of its own):
//   - `SerialQueue`: a FIFO that runs one job at a time, bounds how long a job may wait for its
//     turn, and counts what /health reports (depth, running);
//   - `chooseNonce`: which nonce the next settlement transaction takes;
//   - `planHeal`: what to do about the lowest unmined transaction, given what the node says.
//
// Why a serialized sender (docs/ARCHITECTURE.md §6): anvil can park a transaction that arrives
// while its predecessor is being mined. The newcomer is validated against the state before that
// block commits (so it "requires" the predecessor's nonce), but is filed into the pool's queued
// set after the block's pruning already ran, so nothing ever promotes it; every later nonce then
// queues behind it, and `evm_mine` mines only ready transactions (upstream:
// foundry-rs/foundry#10122). Sending the next transaction only once the previous one is mined
// closes that window; `planHeal` repairs whatever still goes wrong (a parked or lost
// transaction, a gap left by a failed broadcast, a nonce used by another sender).

/** Raised to a job that waited longer than allowed for its turn; it never started. */
export class QueueTimeoutError extends Error {
  constructor(waitedMs: number) {
    super(`settlement queue busy: waited ${waitedMs} ms for the previous settlement to be mined`);
    this.name = "QueueTimeoutError";
  }
}

type Waiter = { start: () => void; timer: ReturnType<typeof setTimeout> | undefined };

/** Runs jobs one at a time in arrival order. */
export class SerialQueue {
  private readonly waiting: Waiter[] = [];
  private busy = false;

  /** Jobs waiting for their turn (not counting the running one). */
  get depth(): number {
    return this.waiting.length;
  }

  /** True while a job runs. */
  get running(): boolean {
    return this.busy;
  }

  /**
   * Run `job` once every earlier job has finished. A job still waiting after `maxWaitMs` is
   * rejected with QueueTimeoutError without running (the caller can then refuse cleanly).
   */
  run<T>(job: () => Promise<T>, maxWaitMs = Infinity): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const startedAt = Date.now();
      const waiter: Waiter = {
        timer: undefined,
        start: () => {
          if (waiter.timer) clearTimeout(waiter.timer);
          this.busy = true;
          // A job that throws synchronously must still free the queue.
          Promise.resolve()
            .then(job)
            .then(resolve, reject)
            .finally(() => this.next());
        },
      };
      if (!this.busy) return waiter.start();
      if (Number.isFinite(maxWaitMs)) {
        waiter.timer = setTimeout(() => {
          const i = this.waiting.indexOf(waiter);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new QueueTimeoutError(Date.now() - startedAt));
        }, maxWaitMs);
      }
      this.waiting.push(waiter);
    });
  }

  private next(): void {
    this.busy = false;
    this.waiting.shift()?.start();
  }
}

/**
 * The nonce for the next transaction: never below the account's mined nonce, and above every
 * transaction of ours still outstanding; but if a nonce between them is missing (a broadcast
 * that failed and was forgotten), that hole is taken first, so no gap can persist.
 */
export function chooseNonce(minedNonce: number, outstanding: Iterable<number>): number {
  const taken = new Set<number>();
  for (const n of outstanding) if (n >= minedNonce) taken.add(n);
  let nonce = minedNonce;
  while (taken.has(nonce)) nonce += 1;
  return nonce;
}

/** Where the node holds a transaction: mined-ready ("pending"), parked ("queued"), or nowhere. */
export type PoolState = "ready" | "queued" | "absent";

export type HealInput = {
  /** The account's mined nonce (transaction count at `latest`). */
  minedNonce: number;
  /** Nonces of our transactions sent and not yet known mined. */
  outstanding: readonly number[];
  /** Pool state of our transaction with nonce `minedNonce`, if we have one outstanding. */
  lowestPoolState: PoolState | undefined;
  /** How long the mined nonce has not moved while we had transactions outstanding. */
  stalledMs: number;
  /** Stall after which we act (a healthy automining anvil mines within milliseconds). */
  stuckAfterMs: number;
};

export type HealAction =
  /** Nothing outstanding, or not stalled long enough, or the chain simply is not mining. */
  | { kind: "wait" }
  /**
   * Our transaction at the mined nonce is parked in the queued set: take our transactions out
   * of the pool and send them again in nonce order (same signed bytes, so the same hashes).
   */
  | { kind: "requeue"; nonce: number }
  /** Our transaction at the mined nonce is not in the pool at all: send it again. */
  | { kind: "rebroadcast"; nonce: number }
  /** We have nothing at the mined nonce but later ones wait on it: fill it with a no-op. */
  | { kind: "fill-gap"; nonce: number };

/** Decide how to unstick the lowest nonce. Pure: the caller gathers the input and acts. */
export function planHeal(input: HealInput): HealAction {
  const pending = input.outstanding.filter((n) => n >= input.minedNonce);
  if (pending.length === 0 || input.stalledMs < input.stuckAfterMs) return { kind: "wait" };
  const lowest = input.minedNonce;
  if (!pending.includes(lowest)) return { kind: "fill-gap", nonce: lowest };
  switch (input.lowestPoolState) {
    case "queued":
      return { kind: "requeue", nonce: lowest };
    case "absent":
      return { kind: "rebroadcast", nonce: lowest };
    default:
      // Ready but unmined: automine is off or blocks are timed. Mining is the operator's call.
      return { kind: "wait" };
  }
}
