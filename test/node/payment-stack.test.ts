// End-to-end tests of the local payment stack (cli/stack): contracts and the x402 facilitator API, driven only
// through official @x402 client/server code.

import { describe, expect, it } from "vitest";
import { parseEventLogs, parseSignature, serializeSignature, type Address, type Hex } from "viem";
import { generatePrivateKey } from "viem/accounts";
import { HTTPFacilitatorClient, x402ResourceServer } from "@x402/core/server";
import { ExactEvmScheme as ExactEvmServerScheme } from "@x402/evm/exact/server";
import { compileContracts, compileContractsFresh } from "../../cli/stack/compile.ts";
import { MULTICALL3_ADDRESS, TOKEN_DECIMALS, TOKEN_NAME, TOKEN_VERSION } from "../../cli/stack/chain.ts";
import {
  balances,
  eip3009,
  post,
  requirements,
  s,
  settle,
  signPayment,
  usePaymentStack,
  verify,
} from "../support/payment-stack.ts";

usePaymentStack();

describe("contracts", () => {
  it("compile deterministically (two fresh solc runs give identical output)", async () => {
    const [a, b] = await Promise.all([compileContractsFresh(), compileContractsFresh()]);
    expect(a).toEqual(b);
    expect(await compileContracts()).toEqual(a);
  });

  it("Multicall3 runtime code sits at the canonical address", async () => {
    const code = await s().chain.publicClient.getCode({ address: MULTICALL3_ADDRESS });
    expect(code).toBe((await compileContracts()).Multicall3.deployedBytecode);
  });

  it("token exposes the EIP-712 domain and metadata the x402 exact scheme relies on", async () => {
    const { publicClient, token } = s().chain;
    const read = (functionName: string, args: unknown[] = []) =>
      publicClient.readContract({ address: token.address, abi: token.abi, functionName, args });
    expect(await read("name")).toBe(TOKEN_NAME);
    expect(await read("version")).toBe(TOKEN_VERSION);
    expect(await read("decimals")).toBe(TOKEN_DECIMALS);
    expect(s().asset).toEqual({ address: token.address, name: "USDC", version: "2", decimals: 6 });
    const domain = await publicClient.getEip712Domain({ address: token.address });
    expect(domain.domain).toMatchObject({
      name: TOKEN_NAME,
      version: TOKEN_VERSION,
      chainId: s().chainId,
      verifyingContract: token.address,
    });
  });
});

describe("facilitator API", () => {
  it("GET /supported lists exactly x402 v2 exact and upto on the local network and the signer", async () => {
    const res = await fetch(`${s().facilitatorUrl}/supported`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      kinds: [
        { x402Version: 2, scheme: "exact", network: "eip155:84532" },
        // upto names the facilitator the buyer's Permit2 witness must bind (facilitator-upto.test.ts).
        {
          x402Version: 2,
          scheme: "upto",
          network: "eip155:84532",
          extra: { facilitatorAddress: s().accounts.facilitator.address },
        },
      ],
      extensions: [],
      signers: { "eip155:*": [s().accounts.facilitator.address] },
    });
  });

  it("builds the same requirements as the official x402ResourceServer", async () => {
    const server = new x402ResourceServer(new HTTPFacilitatorClient({ url: s().facilitatorUrl }));
    server.register(s().network, new ExactEvmServerScheme());
    await server.initialize();
    const built = await server.buildPaymentRequirements({
      scheme: "exact",
      network: s().network,
      payTo: s().accounts.payTo.address,
      price: { asset: s().asset.address, amount: "1000", extra: { name: s().asset.name, version: s().asset.version } },
      maxTimeoutSeconds: 60,
    });
    expect(built).toEqual([requirements()]);
  });

  it("verifies and settles a payment; balances move by exactly the amount", async () => {
    const payload = await signPayment();
    const auth = eip3009(payload).authorization;
    expect(payload.accepted).toEqual(requirements());
    expect(auth.from).toBe(s().accounts.payer.address);

    const v = await verify(payload);
    expect(v).toMatchObject({ isValid: true, payer: s().accounts.payer.address });

    const before = await balances();
    const r = await settle(payload);
    expect(r).toMatchObject({ success: true, network: "eip155:84532", payer: s().accounts.payer.address });
    expect(r.transaction).toMatch(/^0x[0-9a-f]{64}$/);

    const after = await balances();
    expect(before.payer - after.payer).toBe(1000n);
    expect(after.payTo - before.payTo).toBe(1000n);

    const receipt = await s().chain.publicClient.getTransactionReceipt({ hash: r.transaction as Hex });
    expect(receipt.status).toBe("success");
    expect(receipt.from.toLowerCase()).toBe(s().accounts.facilitator.address.toLowerCase());
    const transfers = parseEventLogs({ abi: s().chain.token.abi, eventName: "Transfer", logs: receipt.logs });
    expect(transfers).toHaveLength(1);
    expect(transfers[0]?.args).toEqual({
      from: s().accounts.payer.address,
      to: s().accounts.payTo.address,
      value: 1000n,
    });
    const used = await s().chain.publicClient.readContract({
      address: s().asset.address as Address,
      abi: s().chain.token.abi,
      functionName: "authorizationState",
      args: [auth.from, auth.nonce],
    });
    expect(used).toBe(true);

    // Replay: the chain refuses the used nonce; nothing moves.
    const again = await settle(payload);
    expect(again.success).toBe(false);
    expect(again.errorReason).toBe("invalid_exact_evm_nonce_already_used");
    expect(await balances()).toEqual(after);
    // And /verify now reports the replay precisely (needs Multicall3 for the diagnosis).
    expect(await verify(payload)).toMatchObject({
      isValid: false,
      invalidReason: "invalid_exact_evm_nonce_already_used",
    });
  });

  it("settles 20 concurrent distinct payments without nonce collisions", async () => {
    const { publicClient } = s().chain;
    const facilitatorAddress = s().accounts.facilitator.address;
    const payloads = await Promise.all(Array.from({ length: 20 }, () => signPayment()));
    const before = await balances();
    const txCountBefore = await publicClient.getTransactionCount({ address: facilitatorAddress });

    const results = await Promise.all(payloads.map((p) => settle(p)));
    for (const r of results) expect(r, JSON.stringify(r)).toMatchObject({ success: true });
    expect(new Set(results.map((r) => r.transaction)).size).toBe(20);

    const after = await balances();
    expect(before.payer - after.payer).toBe(20_000n);
    expect(after.payTo - before.payTo).toBe(20_000n);
    // Exactly one transaction per payment: no retries, no gaps, no stuck nonces.
    expect(await publicClient.getTransactionCount({ address: facilitatorAddress })).toBe(txCountBefore + 20);
    expect(await publicClient.getTransactionCount({ address: facilitatorAddress, blockTag: "pending" })).toBe(
      txCountBefore + 20,
    );
  });

  it("concurrent settles of one payment: both may pass /verify, only one settles", async () => {
    const payload = await signPayment();
    const [v1, v2] = await Promise.all([verify(payload), verify(payload)]);
    expect(v1.isValid && v2.isValid).toBe(true);
    const before = await balances();
    const results = await Promise.all([settle(payload), settle(payload)]);
    expect(results.filter((r) => r.success)).toHaveLength(1);
    const after = await balances();
    expect(before.payer - after.payer).toBe(1000n);
  });

  it("settlement failures do not disturb later settlements (nonce manager stays in sync)", async () => {
    const replayed = await signPayment();
    expect((await settle(replayed)).success).toBe(true);
    const mixed = await Promise.all([
      settle(replayed),
      ...(await Promise.all([signPayment(), signPayment(), signPayment()])).map((p) => settle(p)),
      settle(replayed),
    ]);
    expect(mixed.map((r) => r.success)).toEqual([false, true, true, true, false]);
    expect((await settle(await signPayment())).success).toBe(true);
  });

  it("rejects a tampered signature", async () => {
    const payload = await signPayment();
    const sig = parseSignature(eip3009(payload).signature);
    const flipped = `0x${(BigInt(sig.r) ^ 1n).toString(16).padStart(64, "0")}` as Hex;
    const tampered = structuredClone(payload);
    (tampered.payload as { signature: Hex }).signature = serializeSignature({ ...sig, r: flipped });
    expect(await verify(tampered)).toMatchObject({ isValid: false, invalidReason: "invalid_exact_evm_signature" });
    const before = await balances();
    expect(await settle(tampered)).toMatchObject({ success: false, errorReason: "invalid_exact_evm_signature" });
    expect(await balances()).toEqual(before);
  });

  it("rejects a payload whose signed fields were altered after signing", async () => {
    const payload = await signPayment();
    const altered = structuredClone(payload);
    (altered.payload as { authorization: { value: string } }).authorization.value = "1";
    expect(await verify(altered, requirements({ amount: "1" }))).toMatchObject({
      isValid: false,
      invalidReason: "invalid_exact_evm_signature",
    });
  });

  it("rejects the wrong amount and the wrong recipient", async () => {
    const payload = await signPayment(); // signed for 1000 to payTo
    expect(await verify(payload, requirements({ amount: "2000" }))).toMatchObject({
      isValid: false,
      invalidReason: "invalid_exact_evm_payload_authorization_value_mismatch",
    });
    expect(await verify(payload, requirements({ payTo: s().accounts.deployer.address }))).toMatchObject({
      isValid: false,
      invalidReason: "invalid_exact_evm_recipient_mismatch",
    });
  });

  it("reports insufficient balance for an unfunded payer", async () => {
    const payload = await signPayment(requirements(), generatePrivateKey());
    expect(await verify(payload)).toMatchObject({
      isValid: false,
      invalidReason: "invalid_exact_evm_insufficient_balance",
    });
  });

  it("answers malformed requests with 4xx JSON and keeps serving", async () => {
    const bad = await post("/verify", "{not json");
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { code: "invalid_json" } });

    expect((await post("/settle", "")).status).toBe(400);
    expect((await post("/settle", "null")).json).toMatchObject({ error: { code: "invalid_request" } });
    expect((await post("/verify", { x402Version: 2 })).json).toMatchObject({ error: { code: "invalid_request" } });

    const payload = await signPayment();
    const shape = await post("/verify", {
      x402Version: 2,
      paymentPayload: { ...payload, payload: { signature: "0x12" } },
      paymentRequirements: requirements(),
    });
    expect(shape.status).toBe(400);
    expect(shape.json).toMatchObject({ error: { code: "invalid_request" } });

    const badNumber = structuredClone(payload);
    (badNumber.payload as { authorization: { value: string } }).authorization.value = "1e3";
    expect(
      (await post("/settle", { x402Version: 2, paymentPayload: badNumber, paymentRequirements: requirements() }))
        .status,
    ).toBe(400);

    const v1 = await post("/verify", { x402Version: 1, paymentPayload: payload, paymentRequirements: requirements() });
    expect(v1.status).toBe(400);

    const otherNetwork = await post("/verify", {
      x402Version: 2,
      paymentPayload: { ...payload, accepted: requirements({ network: "eip155:8453" }) },
      paymentRequirements: requirements({ network: "eip155:8453" }),
    });
    expect(otherNetwork.status).toBe(400);
    expect(otherNetwork.json).toMatchObject({ error: { code: "unsupported_scheme_network" } });

    const huge = await post("/verify", JSON.stringify({ pad: "x".repeat(100_000) }));
    expect(huge.status).toBe(413);

    const get = await fetch(`${s().facilitatorUrl}/verify`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect((await fetch(`${s().facilitatorUrl}/nope`)).status).toBe(404);

    // Still alive and correct after all that.
    expect(await verify(payload)).toMatchObject({ isValid: true });
  });
});
