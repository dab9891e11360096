// Owns: end-to-end tests of `upto` payments through the local facilitator (cli/stack) on the
// local chain, with the official @x402/evm upto client and server schemes only: the buyer signs
// a Permit2 authorization for a maximum, the facilitator verifies it against the maximum and
// settles the actual amount through our Permit2 + x402 upto proxy (contracts/). Every case
// checks the payer's and payee's balances to the atomic unit and the Permit2 nonce.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEventLogs, type Address, type Hash } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { freePort, startFacilitator, startPaymentStack, type PaymentStack } from "../../cli/stack/index.ts";
import { compileContracts } from "../../cli/stack/compile.ts";
import { PERMIT2_ADDRESS, UPTO_PROXY_ADDRESS } from "../../cli/stack/permit2.ts";
import { payer, requirements, settle, signPayment } from "./support/facilitator-client.ts";
import { authorizationOf, settleUpto, signUpto, uptoPayer, uptoRequirements, verifyUpto } from "./support/upto.ts";

let stack: PaymentStack | undefined;
const s = (): PaymentStack => {
  if (!stack) throw new Error("stack did not start");
  return stack;
};

beforeAll(async () => {
  // 60 s for anvil to boot: this 2-core machine is shared and often loaded.
  stack = await startPaymentStack({ anvil: { startTimeoutMs: 60_000 } });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const MAXIMUM = 1_000_000n; // 1 token at 6 decimals

type Balances = { payer: bigint; payTo: bigint };
async function balances(): Promise<Balances> {
  const [payer, payTo] = await Promise.all([
    s().chain.balanceOf(s().accounts.payer.address),
    s().chain.balanceOf(s().accounts.payTo.address),
  ]);
  return { payer, payTo };
}

/** Whether Permit2 has consumed `owner`'s unordered nonce (bit nonce & 255 of word nonce >> 8). */
async function nonceUsed(owner: Address, nonce: string): Promise<boolean> {
  const { Permit2 } = await compileContracts();
  const n = BigInt(nonce);
  const word = (await s().chain.publicClient.readContract({
    address: PERMIT2_ADDRESS,
    abi: Permit2.abi,
    functionName: "nonceBitmap",
    args: [owner, n >> 8n],
  })) as bigint;
  return ((word >> (n & 255n)) & 1n) === 1n;
}

/** A fresh payment for MAXIMUM that /verify accepts. */
async function verifiedPayment() {
  const req = await uptoRequirements(s(), MAXIMUM.toString());
  const payload = await signUpto(uptoPayer(s()), req);
  const verified = await verifyUpto(s(), payload, req);
  expect(verified).toMatchObject({ status: 200, body: { isValid: true, payer: s().accounts.payer.address } });
  return { req, payload, nonce: authorizationOf(payload).permit2Authorization.nonce };
}

describe("upto on the local facilitator", () => {
  it("GET /supported lists upto next to exact, with the facilitator address the witness must name", async () => {
    const res = await fetch(`${s().facilitatorUrl}/supported`);
    const body = (await res.json()) as { kinds: Array<{ scheme: string; network: string; extra?: unknown }> };
    expect(body.kinds).toEqual([
      { x402Version: 2, scheme: "exact", network: s().network },
      {
        x402Version: 2,
        scheme: "upto",
        network: s().network,
        extra: { facilitatorAddress: s().accounts.facilitator.address },
      },
    ]);
  });

  it("offers requirements the dispatcher can copy: permit2 transfer method and the facilitator address", async () => {
    const req = await uptoRequirements(s(), "250000");
    expect(req).toEqual({
      scheme: "upto",
      network: s().network,
      amount: "250000",
      asset: s().asset.address,
      payTo: s().accounts.payTo.address,
      maxTimeoutSeconds: 300,
      extra: {
        name: s().asset.name,
        version: s().asset.version,
        assetTransferMethod: "permit2",
        facilitatorAddress: s().accounts.facilitator.address,
      },
    });
    const auth = authorizationOf(await signUpto(uptoPayer(s()), req)).permit2Authorization;
    expect(auth.spender).toBe(UPTO_PROXY_ADDRESS);
    expect(auth.permitted).toEqual({ token: s().asset.address, amount: "250000" });
    expect(auth.witness).toMatchObject({
      to: s().accounts.payTo.address,
      facilitator: s().accounts.facilitator.address,
    });
  });

  it("(a) settles 37 % of the maximum: exactly that moves on chain, once", async () => {
    const { req, payload, nonce } = await verifiedPayment();
    const before = await balances();
    const actual = (MAXIMUM * 37n) / 100n;

    const settled = await settleUpto(s(), payload, req, actual.toString());
    expect(settled.status).toBe(200);
    expect(settled.body).toMatchObject({ success: true, amount: actual.toString(), payer: s().accounts.payer.address });

    const receipt = await s().chain.publicClient.getTransactionReceipt({ hash: settled.body.transaction as Hash });
    expect(receipt.status).toBe("success");
    expect(receipt.to?.toLowerCase()).toBe(UPTO_PROXY_ADDRESS.toLowerCase());
    const transfers = parseEventLogs({ abi: s().chain.token.abi, eventName: "Transfer", logs: receipt.logs });
    expect(transfers.map((t) => t.args)).toEqual([
      { from: s().accounts.payer.address, to: s().accounts.payTo.address, value: actual },
    ]);
    expect(await balances()).toEqual({ payer: before.payer - actual, payTo: before.payTo + actual });
    expect(await nonceUsed(s().accounts.payer.address, nonce)).toBe(true);

    // (d) The same permit again, for the same or a smaller amount: refused, nothing moves.
    for (const again of [actual, 1n]) {
      const replay = await settleUpto(s(), payload, req, again.toString());
      expect(replay.status).toBe(200);
      // @x402/evm's diagnosis has no Permit2-nonce check, so a used nonce reads as a failed simulation.
      expect(replay.body).toMatchObject({ success: false, transaction: "", errorReason: "permit2_simulation_failed" });
    }
    expect((await verifyUpto(s(), payload, req)).body).toMatchObject({ isValid: false });
    expect(await balances()).toEqual({ payer: before.payer - actual, payTo: before.payTo + actual });
  });

  it("(b) settles 0: success with no transaction, nothing moves, the permit stays unused", async () => {
    const { req, payload, nonce } = await verifiedPayment();
    const before = await balances();
    const block = await s().chain.publicClient.getBlockNumber();

    const settled = await settleUpto(s(), payload, req, "0");
    expect(settled).toEqual({
      status: 200,
      body: { success: true, transaction: "", network: s().network, payer: s().accounts.payer.address, amount: "0" },
    });
    expect(await balances()).toEqual(before);
    expect(await s().chain.publicClient.getBlockNumber()).toBe(block);
    expect(await nonceUsed(s().accounts.payer.address, nonce)).toBe(false);
  });

  it("(c) refuses more than the maximum before sending anything; nothing moves", async () => {
    const { req, payload, nonce } = await verifiedPayment();
    const before = await balances();
    const sentBefore = s().facilitator.health().sent;

    const settled = await settleUpto(s(), payload, req, (MAXIMUM + 1n).toString());
    expect(settled.status).toBe(200);
    expect(settled.body).toMatchObject({
      success: false,
      transaction: "",
      errorReason: "invalid_upto_evm_payload_settlement_exceeds_amount",
    });
    expect(s().facilitator.health().sent).toBe(sentBefore);
    expect(await balances()).toEqual(before);
    expect(await nonceUsed(s().accounts.payer.address, nonce)).toBe(false);

    // The full maximum is still allowed afterwards (the refusal consumed nothing).
    const full = await settleUpto(s(), payload, req, MAXIMUM.toString());
    expect(full.body).toMatchObject({ success: true, amount: MAXIMUM.toString() });
    expect(await balances()).toEqual({ payer: before.payer - MAXIMUM, payTo: before.payTo + MAXIMUM });
  });

  it("verify refuses a payer without the Permit2 approval, and a witness naming another facilitator", async () => {
    const key = generatePrivateKey();
    const stranger = privateKeyToAccount(key).address;
    await s().chain.mint(stranger, MAXIMUM);
    const req = await uptoRequirements(s(), MAXIMUM.toString());
    const unapproved = await signUpto(uptoPayer(s(), key), req);
    expect((await verifyUpto(s(), unapproved, req)).body).toMatchObject({
      isValid: false,
      invalidReason: "permit2_allowance_required",
    });

    const otherFacilitator = { ...req, extra: { ...req.extra, facilitatorAddress: s().accounts.deployer.address } };
    const misbound = await signUpto(uptoPayer(s()), otherFacilitator);
    expect((await verifyUpto(s(), misbound, otherFacilitator)).body).toMatchObject({
      isValid: false,
      invalidReason: "upto_facilitator_mismatch",
    });
    expect(await s().chain.balanceOf(stranger)).toBe(MAXIMUM);
  });

  it("verify refuses a settle-time amount that differs from the signed maximum", async () => {
    const { req, payload } = await verifiedPayment();
    const lower = await verifyUpto(s(), payload, { ...req, amount: "1" });
    expect(lower.body).toMatchObject({ isValid: false });
  });

  it("upto and exact settlements share the one serialized sender and all land", async () => {
    const before = await balances();
    const sentBefore = s().facilitator.health().sent;
    const exactReq = requirements(s(), "1000");
    const exactClient = payer(s());
    const upto = await Promise.all([0, 1, 2].map(() => verifiedPayment()));
    const exact = await Promise.all([0, 1, 2].map(() => signPayment(exactClient, exactReq)));
    const actuals = [1n, 370_000n, MAXIMUM];

    const results = await Promise.all([
      ...upto.map((p, i) => settleUpto(s(), p.payload, p.req, String(actuals[i]))),
      ...exact.map((p) => settle(s(), p, exactReq)),
    ]);
    for (const r of results) expect(r.body).toMatchObject({ success: true });
    const hashes = new Set(results.map((r) => r.body.transaction));
    expect(hashes.size).toBe(6);
    expect(s().facilitator.health().sent).toBe(sentBefore + 6);

    const moved = actuals.reduce((a, b) => a + b, 0n) + 3n * 1000n;
    expect(await balances()).toEqual({ payer: before.payer - moved, payTo: before.payTo + moved });
  });

  it("answers 502 rpc_unavailable for upto when the chain is unreachable, without crashing", async () => {
    const { req, payload } = await verifiedPayment();
    const deadRpc = `http://127.0.0.1:${await freePort()}`;
    const privateKey = s().accounts.facilitator.privateKey;
    const dead = await startFacilitator({ rpcUrl: deadRpc, chainId: s().chainId, privateKey });
    try {
      for (const path of ["/verify", "/settle"]) {
        const res = await fetch(`${dead.url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ x402Version: 2, paymentPayload: payload, paymentRequirements: req }),
        });
        expect(res.status, path).toBe(502);
        expect(await res.json()).toMatchObject({ error: { code: "rpc_unavailable" } });
      }
      await new Promise((r) => setTimeout(r, 200)); // let abandoned background checks finish
    } finally {
      await dead.stop();
    }
  });
});
