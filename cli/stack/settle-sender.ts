// Owns: the facilitator's one serialized sender of settlement transactions for its signer
// account: nonces chosen from the chain (never from a local guess that can drift), one
// transaction on the wire at a time (the next one is signed only once the previous one is
// mined, or after `holdMs` if the chain is not mining), a watchdog that heals a stuck nonce, and
// the counters GET /health shows. Pure decisions live in settle-queue.ts; this file talks to
// the node. Why (anvil parks a transaction that races a block; foundry-rs/foundry#10122):
// see settle-queue.ts and docs/ARCHITECTURE.md §6.
import { keccak256, type Address, type Hash, type Hex, type LocalAccount } from "viem";
import { chooseNonce, planHeal, QueueTimeoutError, SerialQueue } from "./settle-queue.ts";
import type { HealAction, PoolState } from "./settle-queue.ts";

/** The node calls the sender needs (a viem wallet client extended with public actions fits). */
export type SenderClient = {
  getTransactionCount(args: { address: Address; blockTag: "latest" }): Promise<number>;
  estimateGas(args: { account: LocalAccount; to: Address; data: Hex; value?: bigint }): Promise<bigint>;
  estimateFeesPerGas(): Promise<{ maxFeePerGas?: bigint; maxPriorityFeePerGas?: bigint }>;
  sendRawTransaction(args: { serializedTransaction: Hex }): Promise<Hash>;
  getTransaction(args: { hash: Hash }): Promise<unknown>;
  request(args: { method: string; params?: unknown }): Promise<unknown>;
};

export type SettleSenderOptions = {
  client: SenderClient;
  account: LocalAccount;
  chainId: number;
  /** Longest a send waits for its turn before it is refused (default 15 s). */
  maxQueueWaitMs?: number;
  /** Longest a send holds the line waiting for its own transaction to be mined (default 5 s). */
  holdMs?: number;
  /** The mined nonce not moving this long while we have transactions out is "stuck" (default 1 s). */
  stuckAfterMs?: number;
  /** Poll interval for the mined nonce (default 5 ms; the node is local and this is one cheap call). */
  pollMs?: number;
};

export type SenderHealth = {
  /** Sends waiting for their turn. */
  queued: number;
  /** 1 while a send holds the line (signing, broadcasting or waiting for its block), else 0. */
  sending: number;
  /** Our transactions broadcast and not yet seen mined. */
  inFlight: number;
  /** Nonce of the account's last mined transaction (null before the first). */
  lastMinedNonce: number | null;
  /** The nonce the next settlement will take. */
  nextNonce: number;
  /** Milliseconds since the mined nonce last moved while transactions were out (0 if none). */
  stalledMs: number;
  /** True when transactions are outstanding and the mined nonce has not moved for `stuckAfterMs`. */
  stuck: boolean;
  sent: number;
  /** Sends refused because they waited longer than `maxQueueWaitMs` for their turn. */
  refusedBusy: number;
  healed: { total: number; requeued: number; rebroadcast: number; gapsFilled: number };
};

type Tx = { to: Address; data: Hex; value?: bigint; gas?: bigint };
type Fees = { maxFeePerGas?: bigint; maxPriorityFeePerGas?: bigint };
type Outstanding = { hash: Hash; raw: Hex };
type PoolContent = Record<"pending" | "queued", Record<string, Record<string, unknown>> | undefined>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Where the node holds `address`'s transaction with `nonce` (anvil's txpool_content). */
async function poolState(client: SenderClient, address: Address, nonce: number, hash: Hash): Promise<PoolState> {
  let content: PoolContent;
  try {
    content = (await client.request({ method: "txpool_content" })) as PoolContent;
  } catch {
    // A node without txpool_content: "known" is all we can tell, and that is no reason to act.
    return (await client.getTransaction({ hash }).then(
      () => true,
      () => false,
    ))
      ? "ready"
      : "absent";
  }
  const holds = (part: PoolContent["pending"]): boolean => {
    const mine = Object.entries(part ?? {}).find(([a]) => a.toLowerCase() === address.toLowerCase())?.[1];
    return mine !== undefined && Object.hasOwn(mine, String(nonce));
  };
  if (holds(content.queued)) return "queued";
  return holds(content.pending) ? "ready" : "absent";
}

export class SettleSender {
  private readonly client: SenderClient;
  private readonly account: LocalAccount;
  private readonly holdMs: number;
  private readonly stuckAfterMs: number;
  private readonly pollMs: number;
  private readonly queue = new SerialQueue();
  private readonly outstanding = new Map<number, Outstanding>();
  private readonly healed = { total: 0, requeued: 0, rebroadcast: 0, gapsFilled: 0 };
  private readonly watchdog: ReturnType<typeof setInterval>;
  private minedNonce = 0;
  private lastProgressAt = Date.now();
  private sent = 0;
  private refusedBusy = 0;
  private stopped = false;
  // One check at a time (the watchdog and a send's own wait share it): two heals at once would
  // re-send the same transactions twice.
  private checking: Promise<void> | undefined;

  private readonly opts: SettleSenderOptions;

  constructor(opts: SettleSenderOptions) {
    this.opts = opts;
    this.client = opts.client;
    this.account = opts.account;
    this.holdMs = opts.holdMs ?? 5_000;
    this.stuckAfterMs = opts.stuckAfterMs ?? 1_000;
    this.pollMs = opts.pollMs ?? 5;
    // Heals what is left outstanding when no send is running (e.g. a parked tail after a burst).
    this.watchdog = setInterval(
      () => {
        if (!this.queue.running && this.outstanding.size > 0) this.check().catch(() => undefined);
      },
      Math.max(50, Math.floor(this.stuckAfterMs / 4)),
    );
    this.watchdog.unref();
  }

  /**
   * Sign and broadcast one transaction in turn; resolves with its hash as soon as it is
   * broadcast (the caller waits for the receipt itself), while the turn lasts until it is mined
   * or `holdMs` passed, so the next transaction never races it into a block.
   */
  send(tx: Tx): Promise<Hash> {
    return new Promise<Hash>((resolve, reject) => {
      const turn = async (): Promise<void> => {
        const { hash, nonce } = await this.broadcastInTurn(tx); // throws only before broadcast
        resolve(hash);
        await this.holdUntilMined(nonce);
      };
      this.queue.run(turn, this.opts.maxQueueWaitMs ?? 15_000).catch((err: unknown) => {
        if (err instanceof QueueTimeoutError) this.refusedBusy += 1;
        reject(err);
      });
    });
  }

  health(): SenderHealth {
    const stalledMs = this.outstanding.size === 0 ? 0 : Date.now() - this.lastProgressAt;
    return {
      queued: this.queue.depth,
      sending: this.queue.running ? 1 : 0,
      inFlight: this.outstanding.size,
      lastMinedNonce: this.minedNonce > 0 ? this.minedNonce - 1 : null,
      nextNonce: chooseNonce(this.minedNonce, this.outstanding.keys()),
      stalledMs,
      stuck: stalledMs >= this.stuckAfterMs,
      sent: this.sent,
      refusedBusy: this.refusedBusy,
      healed: { ...this.healed },
    };
  }

  /** Stop the watchdog and end any hold (the node is going away). Queued sends still run. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.watchdog);
  }

  private async broadcastInTurn(tx: Tx): Promise<{ hash: Hash; nonce: number }> {
    await this.checking?.catch(() => undefined); // never pick a nonce while a heal is re-sending
    const [mined, fees, gas] = await Promise.all([
      this.readMined(),
      this.client.estimateFeesPerGas(),
      // Estimated in turn, against the state after the previous settlement: a revert (e.g. an
      // authorization just used by a replay) fails here, before a nonce is taken.
      tx.gas ?? this.client.estimateGas({ account: this.account, ...tx }).then((g) => (g * 12n) / 10n),
    ]);
    const nonce = chooseNonce(mined, this.outstanding.keys());
    const raw = await this.sign(nonce, { ...tx, gas }, fees);
    const hash = keccak256(raw);
    await this.broadcast(raw);
    this.outstanding.set(nonce, { hash, raw });
    this.sent += 1;
    return { hash, nonce };
  }

  /** Hold the turn until `nonce` is mined (healing meanwhile) or `holdMs` passed. Never throws. */
  private async holdUntilMined(nonce: number): Promise<void> {
    const deadline = Date.now() + this.holdMs;
    await this.check().catch(() => undefined); // automine has often mined it already
    while (this.outstanding.has(nonce) && Date.now() < deadline && !this.stopped) {
      await sleep(this.pollMs);
      await this.check().catch(() => undefined);
    }
  }

  /** Record the account's mined nonce; forget what it covers; restart the stall clock on progress. */
  private observe(mined: number): void {
    if (mined > this.minedNonce || this.outstanding.size === 0) this.lastProgressAt = Date.now();
    this.minedNonce = Math.max(this.minedNonce, mined);
    for (const n of this.outstanding.keys()) if (n < this.minedNonce) this.outstanding.delete(n);
  }

  private async readMined(): Promise<number> {
    this.observe(await this.client.getTransactionCount({ address: this.account.address, blockTag: "latest" }));
    return this.minedNonce;
  }

  private async sign(nonce: number, tx: Tx & { gas: bigint }, fees?: Fees): Promise<Hex> {
    fees ??= await this.client.estimateFeesPerGas();
    const { maxFeePerGas, maxPriorityFeePerGas } = fees;
    const { to, data, gas } = tx;
    const value = tx.value ?? 0n;
    return this.account.signTransaction({
      chainId: this.opts.chainId,
      type: "eip1559",
      nonce,
      to,
      data,
      value,
      gas,
      maxFeePerGas,
      maxPriorityFeePerGas,
    });
  }

  /** Broadcast; a failed call that the node nonetheless accepted (e.g. a timeout) counts as sent. */
  private async broadcast(raw: Hex): Promise<void> {
    try {
      await this.client.sendRawTransaction({ serializedTransaction: raw });
    } catch (err) {
      const known = await this.client.getTransaction({ hash: keccak256(raw) }).then(
        () => true,
        () => false,
      );
      if (!known) throw err;
    }
  }

  /** Poll until our transaction at `nonce` is mined or `ms` passed. */
  private async waitMined(nonce: number, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (nonce >= (await this.readMined()) && Date.now() < deadline) await sleep(this.pollMs);
  }

  private check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => (this.checking = undefined));
    return this.checking;
  }

  /** One watchdog step: read the mined nonce and heal the lowest one if it is stuck. */
  private async checkOnce(): Promise<void> {
    const mined = await this.readMined();
    const stalledMs = Date.now() - this.lastProgressAt;
    if (this.outstanding.size === 0 || stalledMs < this.stuckAfterMs) return;
    const lowest = this.outstanding.get(mined);
    const address = this.account.address;
    const lowestPoolState = lowest ? await poolState(this.client, address, mined, lowest.hash) : undefined;
    const outstanding = [...this.outstanding.keys()];
    const { stuckAfterMs } = this;
    await this.heal(planHeal({ minedNonce: mined, outstanding, lowestPoolState, stalledMs, stuckAfterMs }));
  }

  private async heal(action: HealAction): Promise<void> {
    if (action.kind === "wait") return;
    const entry = this.outstanding.get(action.nonce);
    if (action.kind === "requeue" && entry) {
      await this.requeue();
      this.healed.requeued += 1;
    } else if (action.kind === "rebroadcast" && entry) {
      await this.broadcast(entry.raw);
      this.healed.rebroadcast += 1;
    } else if (action.kind === "fill-gap") {
      const raw = await this.sign(action.nonce, { to: this.account.address, data: "0x", gas: 21_000n });
      await this.broadcast(raw);
      this.outstanding.set(action.nonce, { hash: keccak256(raw), raw });
      this.healed.gapsFilled += 1;
    } else {
      return;
    }
    this.healed.total += 1;
    this.lastProgressAt = Date.now(); // give the healed transaction its own full window
  }

  /**
   * Release parked transactions. anvil_dropTransaction leaves queued transactions in place and
   * a plain re-send is "already imported"; removing the account's pool transactions works. Ours
   * are then re-sent with the same signed bytes (same hashes), one at a time, or the re-sends
   * could race the miner again.
   */
  private async requeue(): Promise<void> {
    await this.client.request({ method: "anvil_removePoolTransactions", params: [this.account.address] });
    for (const nonce of [...this.outstanding.keys()].sort((a, b) => a - b)) {
      const again = this.outstanding.get(nonce);
      if (!again) continue; // mined meanwhile
      await this.broadcast(again.raw);
      await this.waitMined(nonce, this.holdMs);
    }
  }
}

export function createSettleSender(opts: SettleSenderOptions): SettleSender {
  return new SettleSender(opts);
}
