// Owns: the wedge of issue 9 item 5, reproduced on purpose against the real facilitator + anvil:
// a settlement transaction parked in anvil's queued set although its nonce is the account's
// mined nonce (the state foundry-rs/foundry#10122 leaves behind; `evm_mine` does not release
// it). The facilitator's watchdog must heal it: the payment settles with its original hash,
// later payments settle too, and GET /health reports the heal.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Hash, Hex } from "viem";
import { startPaymentStack, type PaymentStack } from "../../cli/stack/index.ts";
import {
  health,
  payer,
  requirements,
  rpc,
  settle,
  signPayment,
  txpoolStatus,
  until,
} from "./support/facilitator-client.ts";

let stack: PaymentStack | undefined;
const s = (): PaymentStack => {
  if (!stack) throw new Error("stack did not start");
  return stack;
};

beforeAll(async () => {
  // A generous anvil start timeout: on a loaded 2-core machine its boot alone can pass 15 s.
  stack = await startPaymentStack({ anvil: { startTimeoutMs: 60_000 } });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

type PoolTx = { hash: Hash; nonce: Hex };
type PoolContent = { pending: Record<string, Record<string, PoolTx>>; queued: Record<string, Record<string, PoolTx>> };

/** Our facilitator's transaction at `nonce` in the ready part of the pool, once it is there. */
async function readyTx(nonce: number): Promise<PoolTx | undefined> {
  const content = await rpc<PoolContent>(s(), "txpool_content");
  const signer = s().facilitator.signerAddress.toLowerCase();
  const mine = Object.entries(content.pending).find(([a]) => a.toLowerCase() === signer);
  return mine?.[1][String(nonce)];
}

it("heals a settlement parked in anvil's queued set at the mined nonce; later payments settle", async () => {
  const signer = s().facilitator.signerAddress;
  const client = payer(s());
  const req = requirements(s());
  const balances = async (): Promise<{ payer: bigint; payTo: bigint }> => ({
    payer: await s().chain.balanceOf(s().accounts.payer.address),
    payTo: await s().chain.balanceOf(s().accounts.payTo.address),
  });
  const before = await balances();

  // One normal settlement first, so the signer's nonce k is at least 1 (the setup needs k - 1).
  expect((await settle(s(), await signPayment(client, req), req)).body.success).toBe(true);
  const k = await s().chain.publicClient.getTransactionCount({ address: signer });

  // Stop mining, let the facilitator broadcast settlement A at nonce k, and park it: re-import
  // it while the account's nonce reads k - 1 (so it "requires" k - 1 and lands in `queued`),
  // then put the nonce back to k. Nothing will ever promote it: this is the wedge.
  await rpc(s(), "evm_setAutomine", [false]);
  const paymentA = await signPayment(client, req);
  const settleA = settle(s(), paymentA, req);
  const tx = await until(
    () => readyTx(k),
    (t) => t !== undefined,
    10_000,
    5,
  );
  expect(tx, "facilitator broadcast settlement A").toBeDefined();
  const raw = await rpc<Hex>(s(), "eth_getRawTransactionByHash", [tx!.hash]);
  await rpc(s(), "anvil_removePoolTransactions", [signer]);
  await rpc(s(), "anvil_setNonce", [signer, `0x${(k - 1).toString(16)}`]);
  await rpc(s(), "eth_sendRawTransaction", [raw]);
  await rpc(s(), "anvil_setNonce", [signer, `0x${k.toString(16)}`]);
  await rpc(s(), "evm_setAutomine", [true]);
  await rpc(s(), "evm_mine");

  // A settles with the very hash it was broadcast with; the pool ends empty.
  const a = await settleA;
  expect(a.status).toBe(200);
  expect(a.body).toMatchObject({ success: true, transaction: tx!.hash });
  const h = await health(s());
  expect(h.queue.healed.requeued).toBeGreaterThanOrEqual(1);
  expect(h.queue.healed.total).toBe(h.queue.healed.requeued + h.queue.healed.rebroadcast + h.queue.healed.gapsFilled);

  // The line is free again: another payment settles at once.
  const b = await settle(s(), await signPayment(client, req), req);
  expect(b.body.success).toBe(true);
  const after = await until(
    () => health(s()),
    (x) => x.queue.inFlight === 0,
    5_000,
  );
  expect(after).toMatchObject({
    ok: true,
    queue: { inFlight: 0, queued: 0, stuck: false, lastMinedNonce: k + 1, nextNonce: k + 2 },
  });
  expect(await txpoolStatus(s())).toEqual({ pending: 0, queued: 0 });

  // Exactly three payments moved, each once.
  const paid = 3n * BigInt(req.amount);
  const end = await balances();
  expect(before.payer - end.payer).toBe(paid);
  expect(end.payTo - before.payTo).toBe(paid);
}, 90_000);

it("re-broadcasts a settlement the pool lost (same hash), and it settles", async () => {
  const signer = s().facilitator.signerAddress;
  const client = payer(s());
  const req = requirements(s());
  const healedBefore = (await health(s())).queue.healed.rebroadcast;
  const k = await s().chain.publicClient.getTransactionCount({ address: signer });

  // Stop mining, let the facilitator broadcast, then make the node forget the transaction.
  await rpc(s(), "evm_setAutomine", [false]);
  const settling = settle(s(), await signPayment(client, req), req);
  const tx = await until(
    () => readyTx(k),
    (t) => t !== undefined,
    10_000,
    5,
  );
  expect(tx, "facilitator broadcast the settlement").toBeDefined();
  await rpc(s(), "anvil_removePoolTransactions", [signer]);
  expect(await txpoolStatus(s())).toEqual({ pending: 0, queued: 0 });
  await rpc(s(), "evm_setAutomine", [true]);

  const result = await settling;
  expect(result.body).toMatchObject({ success: true, transaction: tx!.hash });
  const h = await until(
    () => health(s()),
    (x) => x.queue.inFlight === 0,
    5_000,
  );
  expect(h.queue.healed.rebroadcast).toBe(healedBefore + 1);
  expect(h).toMatchObject({ ok: true, queue: { stuck: false, lastMinedNonce: k } });
  expect(await txpoolStatus(s())).toEqual({ pending: 0, queued: 0 });
}, 60_000);
