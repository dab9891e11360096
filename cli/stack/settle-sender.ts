// Owns: the facilitator's one serialized sender of settlement transactions for its signer
// account: nonces chosen from the chain (never from a local guess that can drift), one
// transaction on the wire at a time (the next one is signed only once the previous one is
// mined, or after `holdMs` if the chain is not mining), a watchdog that heals a stuck nonce, and
// the counters GET /health shows. Pure decisions live in settle-queue.ts; this file talks to
// the node. Why (anvil parks a transaction that races a block; foundry-rs/foundry#10122):
// see settle-queue.ts and docs/ARCHITECTURE.md §6.
import { keccak256, type Address, type Hash, type Hex, type LocalAccount } from "viem";
import { chooseNonce, planHeal, SerialQueue, type HealAction, type PoolState } from "./settle-queue.ts";

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
  /** Longest a send waits for its turn before it is refused (default 30 s). */
  maxQueueWaitMs?: number;
  /** Longest a send holds the line waiting for its own transaction to be mined (default 5 s). */
  holdMs?: number;
  /** The mined nonce not moving for this long, with transactions outstanding, is "stuck" (default 1 s). */
  stuckAfterMs?: number;
  /** Poll interval for the mined nonce (default 10 ms; the node is local). */
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
  /** Milliseconds since the mined nonce last moved while transactions were outstanding (0 if none). */
  stalledMs: number;
  /** True when transactions are outstanding and the mined nonce has not moved for `stuckAfterMs`. */
  stuck: boolean;
  sent: number;
  /** Sends refused because they waited longer than `maxQueueWaitMs` for their turn. */
  refusedBusy: number;
  healed: { total: number; requeued: number; rebroadcast: number; gapsFilled: number };
};

export type SettleSender = {
  /** Sign and broadcast one transaction in turn; resolves with its hash once mined (or held `holdMs`). */
  send(tx: { to: Address; data: Hex; value?: bigint; gas?: bigint }): Promise<Hash>;
  health(): SenderHealth;
  /** Stop the watchdog. Sends already queued still run. */
  stop(): void;
};

type Outstanding = { hash: Hash; raw: Hex };

export function createSettleSender(opts: SettleSenderOptions): SettleSender {
  const { client, account } = opts;
  const holdMs = opts.holdMs ?? 5_000;
  const stuckAfterMs = opts.stuckAfterMs ?? 1_000;
  const pollMs = opts.pollMs ?? 10;
  const queue = new SerialQueue();
  const outstanding = new Map<number, Outstanding>();
  const healed = { total: 0, requeued: 0, rebroadcast: 0, gapsFilled: 0 };
  let minedNonce = 0;
  let lastProgressAt = Date.now();
  let sent = 0;
  let refusedBusy = 0;

  /** Record the account's mined nonce; forget what it covers; restart the stall clock on progress. */
  const observe = (mined: number): void => {
    if (mined > minedNonce || outstanding.size === 0) lastProgressAt = Date.now();
    minedNonce = Math.max(minedNonce, mined);
    for (const n of outstanding.keys()) if (n < minedNonce) outstanding.delete(n);
  };
  const readMined = async (): Promise<number> => {
    const mined = await client.getTransactionCount({ address: account.address, blockTag: "latest" });
    observe(mined);
    return minedNonce;
  };

  const sign = async (nonce: number, tx: { to: Address; data: Hex; value?: bigint; gas: bigint }): Promise<Hex> => {
    const fees = await client.estimateFeesPerGas();
    return account.signTransaction({
      chainId: opts.chainId,
      type: "eip1559",
      nonce,
      to: tx.to,
      data: tx.data,
      value: tx.value ?? 0n,
      gas: tx.gas,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
  };

  /** Broadcast; a failed call that the node nonetheless accepted (e.g. a timeout) counts as sent. */
  const broadcast = async (raw: Hex): Promise<void> => {
    try {
      await client.sendRawTransaction({ serializedTransaction: raw });
    } catch (err) {
      const known = await client.getTransaction({ hash: keccak256(raw) }).then(() => true, () => false);
      if (!known) throw err;
    }
  };

  const poolState = async (nonce: number, hash: Hash): Promise<PoolState> => {
    try {
      const content = (await client.request({ method: "txpool_content" })) as Record<string, Record<string, Record<string, unknown>>>;
      const find = (part: Record<string, Record<string, unknown>> | undefined): boolean => {
        const byAddr = Object.entries(part ?? {}).find(([a]) => a.toLowerCase() === account.address.toLowerCase())?.[1];
        return byAddr !== undefined && Object.hasOwn(byAddr, String(nonce));
      };
      if (find(content.queued)) return "queued";
      if (find(content.pending)) return "ready";
      return "absent";
    } catch {
      // A node without txpool_content: "known" is all we can tell, and it is not parked-safe to act on.
      return (await client.getTransaction({ hash }).then(() => true, () => false)) ? "ready" : "absent";
    }
  };

  // One check at a time (the watchdog and a send's own wait loop share it): two heals at once
  // would re-send the same transactions twice.
  let checking: Promise<void> | undefined;
  const check = (): Promise<void> => (checking ??= doCheck().finally(() => (checking = undefined)));

  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  /** Poll until our transaction at `nonce` is mined or `ms` passed. */
  const waitMined = async (nonce: number, ms: number): Promise<void> => {
    const deadline = Date.now() + ms;
    while (nonce >= (await readMined()) && Date.now() < deadline) await sleep(pollMs);
  };

  const act = async (action: HealAction): Promise<void> => {
    if (action.kind === "wait") return;
    const entry = outstanding.get(action.nonce);
    if (action.kind === "requeue" && entry) {
      // anvil_dropTransaction leaves queued transactions in place, and a plain re-send is
      // "already imported"; removing the account's pool transactions is what releases them.
      await client.request({ method: "anvil_removePoolTransactions", params: [account.address] });
      for (const nonce of [...outstanding.keys()].sort((a, b) => a - b)) {
        const again = outstanding.get(nonce);
        if (!again) continue; // mined meanwhile
        await broadcast(again.raw);
        await waitMined(nonce, holdMs); // one at a time again, or the re-sends could race the miner
      }
      healed.requeued += 1;
    } else if (action.kind === "rebroadcast" && entry) {
      await broadcast(entry.raw);
      healed.rebroadcast += 1;
    } else if (action.kind === "fill-gap") {
      const raw = await sign(action.nonce, { to: account.address, data: "0x", gas: 21_000n });
      await broadcast(raw);
      outstanding.set(action.nonce, { hash: keccak256(raw), raw });
      healed.gapsFilled += 1;
    } else {
      return;
    }
    healed.total += 1;
    lastProgressAt = Date.now(); // give the healed transaction its own full window
  };

  /** One watchdog step: read the mined nonce and heal the lowest one if it is stuck. */
  const doCheck = async (): Promise<void> => {
    const mined = await readMined();
    const stalledMs = Date.now() - lastProgressAt;
    if (outstanding.size === 0 || stalledMs < stuckAfterMs) return;
    const lowest = outstanding.get(mined);
    const lowestPoolState = lowest ? await poolState(mined, lowest.hash) : undefined;
    await act(planHeal({ minedNonce: mined, outstanding: [...outstanding.keys()], lowestPoolState, stalledMs, stuckAfterMs }));
  };

  const sendInTurn = async (tx: { to: Address; data: Hex; value?: bigint; gas?: bigint }): Promise<Hash> => {
    await checking?.catch(() => undefined); // never pick a nonce while a heal is re-sending
    const [mined, gas] = await Promise.all([
      readMined(),
      // Estimated in turn, against the state after the previous settlement: a revert (e.g. an
      // authorization just used by a duplicate) fails here, before a nonce is taken.
      tx.gas ?? client.estimateGas({ account, to: tx.to, data: tx.data, value: tx.value }).then((g) => (g * 12n) / 10n),
    ]);
    const nonce = chooseNonce(mined, outstanding.keys());
    const raw = await sign(nonce, { ...tx, gas });
    const hash = keccak256(raw);
    await broadcast(raw);
    outstanding.set(nonce, { hash, raw });
    sent += 1;
    const deadline = Date.now() + holdMs;
    while (outstanding.has(nonce) && Date.now() < deadline) {
      await sleep(pollMs);
      // Never throw from here: the transaction is out, so the caller must get its hash.
      await check().catch(() => undefined);
    }
    return hash;
  };

  // Heals what is left outstanding when no send is running (a parked tail after a burst).
  const watchdog = setInterval(() => {
    if (queue.running || outstanding.size === 0) return;
    check().catch(() => undefined);
  }, Math.max(50, Math.floor(stuckAfterMs / 4)));
  watchdog.unref();

  return {
    send: (tx) =>
      queue.run(() => sendInTurn(tx), opts.maxQueueWaitMs ?? 30_000).catch((err: unknown) => {
        if (err instanceof Error && err.name === "QueueTimeoutError") refusedBusy += 1;
        throw err;
      }),
    health: () => {
      const stalledMs = outstanding.size === 0 ? 0 : Date.now() - lastProgressAt;
      return {
        queued: queue.depth,
        sending: queue.running ? 1 : 0,
        inFlight: outstanding.size,
        lastMinedNonce: minedNonce > 0 ? minedNonce - 1 : null,
        nextNonce: chooseNonce(minedNonce, outstanding.keys()),
        stalledMs,
        stuck: stalledMs >= stuckAfterMs,
        sent,
        refusedBusy,
        healed: { ...healed },
      };
    },
    stop: () => clearInterval(watchdog),
  };
}
