// Owns: end-to-end tests of the local payment stack (cli/stack): anvil + ClawUSD + Multicall3 +
// the x402 facilitator, driven only through official @x402 client/server code, plus the
// reference @x402/hono seller paid by the official @x402/fetch client.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEventLogs, parseSignature, serializeSignature, type Address, type Hex } from "viem";
import { privateKeyToAccount, generatePrivateKey } from "viem/accounts";
import { x402Client } from "@x402/core/client";
import { decodePaymentResponseHeader } from "@x402/core/http";
import { HTTPFacilitatorClient, x402ResourceServer } from "@x402/core/server";
import type { PaymentPayload, PaymentRequirements, SettleResponse, VerifyResponse } from "@x402/core/types";
import { ExactEvmScheme as ExactEvmClientScheme } from "@x402/evm/exact/client";
import { ExactEvmScheme as ExactEvmServerScheme } from "@x402/evm/exact/server";
import { wrapFetchWithPayment } from "@x402/fetch";
import { freePort } from "../../cli/stack/anvil.ts";
import { startFacilitator } from "../../cli/stack/facilitator.ts";
import { startPaymentStack, type PaymentStack } from "../../cli/stack/index.ts";
import { startReferenceServer, type ReferenceServer } from "../../cli/stack/reference-server.ts";
import { compileContracts, compileContractsFresh } from "../../cli/stack/compile.ts";
import { MULTICALL3_ADDRESS, TOKEN_DECIMALS, TOKEN_NAME, TOKEN_VERSION } from "../../cli/stack/chain.ts";

let stack: PaymentStack | undefined;
let reference: ReferenceServer | undefined;

function s(): PaymentStack {
  if (!stack) throw new Error("stack did not start");
  return stack;
}

beforeAll(async () => {
  stack = await startPaymentStack();
  // Printed once so startup cost is visible in test logs (anvil and compile overlap).
  console.info(
    "payment stack startup (ms):",
    Object.fromEntries(Object.entries(stack.timings).map(([k, v]) => [k, Math.round(v)])),
  );
}, 60_000);

afterAll(async () => {
  // Each stop is attempted even if an earlier one throws, so nothing outlives the test file.
  const results = await Promise.allSettled([reference?.stop()]);
  results.push(...(await Promise.allSettled([stack?.stop()])));
  for (const r of results) if (r.status === "rejected") throw r.reason;
});

// ---------------------------------------------------------------- helpers

/** Requirements exactly as a seller states them (what the dispatcher will put in `accepts`). */
function requirements(overrides: Partial<PaymentRequirements> = {}): PaymentRequirements {
  return {
    scheme: "exact",
    network: s().network,
    asset: s().asset.address,
    amount: "1000", // $0.001 at 6 decimals
    payTo: s().accounts.payTo.address,
    maxTimeoutSeconds: 60,
    extra: { name: s().asset.name, version: s().asset.version },
    ...overrides,
  };
}

/**
 * A payer as the official client builds one: x402Client + the exact EVM client scheme with a
 * viem account. Spend controls must opt the local token in (it is not a default asset).
 */
function payerClient(privateKey: Hex = s().accounts.payer.privateKey): x402Client {
  const client = new x402Client();
  client.register(s().network, new ExactEvmClientScheme(privateKeyToAccount(privateKey)));
  client.setSpendControls({ allowedAssets: [{ network: s().network, asset: s().asset.address }] });
  return client;
}

async function signPayment(req: PaymentRequirements = requirements(), privateKey?: Hex): Promise<PaymentPayload> {
  return payerClient(privateKey).createPaymentPayload({
    x402Version: 2,
    resource: { url: "http://127.0.0.1/test-resource", description: "test", mimeType: "application/json" },
    accepts: [req],
  });
}

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${s().facilitatorUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function verify(
  paymentPayload: PaymentPayload,
  paymentRequirements: PaymentRequirements = requirements(),
): Promise<VerifyResponse> {
  const { status, json } = await post("/verify", { x402Version: 2, paymentPayload, paymentRequirements });
  expect(status).toBe(200);
  return json as unknown as VerifyResponse;
}

async function settle(
  paymentPayload: PaymentPayload,
  paymentRequirements: PaymentRequirements = requirements(),
): Promise<SettleResponse> {
  const { status, json } = await post("/settle", { x402Version: 2, paymentPayload, paymentRequirements });
  expect(status).toBe(200);
  return json as unknown as SettleResponse;
}

function eip3009(p: PaymentPayload): {
  signature: Hex;
  authorization: { from: Address; to: Address; value: string; nonce: Hex };
} {
  return p.payload as never;
}

async function balances(): Promise<{ payer: bigint; payTo: bigint }> {
  const [payer, payTo] = await Promise.all([
    s().chain.balanceOf(s().accounts.payer.address),
    s().chain.balanceOf(s().accounts.payTo.address),
  ]);
  return { payer, payTo };
}

// ---------------------------------------------------------------- tests

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

describe("facilitator without a reachable chain", () => {
  it("answers 502 rpc_unavailable (not 'invalid signature') and does not crash the process", async () => {
    // A port nobody listens on: every RPC call fails at the transport level.
    const deadRpc = `http://127.0.0.1:${await freePort()}`;
    const dead = await startFacilitator({
      rpcUrl: deadRpc,
      chainId: s().chainId,
      privateKey: s().accounts.facilitator.privateKey,
    });
    try {
      const paymentPayload = await signPayment();
      const body = JSON.stringify({ x402Version: 2, paymentPayload, paymentRequirements: requirements() });
      for (const path of ["/verify", "/settle"]) {
        const res = await fetch(`${dead.url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        expect(res.status, path).toBe(502);
        expect(await res.json()).toMatchObject({ error: { code: "rpc_unavailable" } });
      }
      // Give any abandoned background checks inside @x402/evm time to settle: an unhandled
      // rejection would fail this test run.
      await new Promise((r) => setTimeout(r, 200));
      expect((await fetch(`${dead.url}/health`)).status).toBe(200);
    } finally {
      await dead.stop();
    }
  });
});

describe("token (EIP-3009 details beyond what x402 exercises)", () => {
  const types = {
    ReceiveWithAuthorization: [
      { name: "from", type: "address" },
      { name: "to", type: "address" },
      { name: "value", type: "uint256" },
      { name: "validAfter", type: "uint256" },
      { name: "validBefore", type: "uint256" },
      { name: "nonce", type: "bytes32" },
    ],
    CancelAuthorization: [
      { name: "authorizer", type: "address" },
      { name: "nonce", type: "bytes32" },
    ],
  } as const;

  it("receiveWithAuthorization only from the payee; cancelAuthorization burns a nonce; high-s is refused", async () => {
    const { publicClient, token, chain } = s().chain;
    const { createWalletClient, http } = await import("viem");
    const payer = privateKeyToAccount(s().accounts.payer.privateKey);
    const payee = privateKeyToAccount(s().accounts.payTo.privateKey);
    const payeeWallet = createWalletClient({ account: payee, chain, transport: http(s().rpcUrl), pollingInterval: 50 });
    const domain = { name: TOKEN_NAME, version: TOKEN_VERSION, chainId: s().chainId, verifyingContract: token.address };
    const nonce = `0x${"ab".repeat(32)}` as Hex;
    const message = {
      from: payer.address,
      to: payee.address,
      value: 5n,
      validAfter: 0n,
      validBefore: BigInt(Math.floor(Date.now() / 1000) + 600),
      nonce,
    };
    const signature = await payer.signTypedData({ domain, types, primaryType: "ReceiveWithAuthorization", message });
    const { v, r, s: sigS } = parseSignature(signature);
    const args = [
      message.from,
      message.to,
      message.value,
      message.validAfter,
      message.validBefore,
      nonce,
      Number(v),
      r,
      sigS,
    ] as const;

    // A third party (the deployer account) may not submit it.
    await expect(
      publicClient.simulateContract({
        account: s().accounts.deployer.address,
        address: token.address,
        abi: token.abi,
        functionName: "receiveWithAuthorization",
        args,
      }),
    ).rejects.toThrow(/caller must be the payee/);

    // The malleable twin (s' = n - s, v flipped) recovers the same signer but must be refused.
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const highS = `0x${(n - BigInt(sigS)).toString(16).padStart(64, "0")}` as Hex;
    await expect(
      publicClient.simulateContract({
        account: payee.address,
        address: token.address,
        abi: token.abi,
        functionName: "receiveWithAuthorization",
        args: [...args.slice(0, 6), Number(v) === 27 ? 28 : 27, r, highS],
      }),
    ).rejects.toThrow(/invalid signature 's' value/);

    // The payee can, via the packed-bytes overload.
    const hash = await payeeWallet.writeContract({
      address: token.address,
      abi: token.abi,
      functionName: "receiveWithAuthorization",
      args: [...args.slice(0, 6), signature],
    });
    expect((await publicClient.waitForTransactionReceipt({ hash })).status).toBe("success");

    // Cancel an unused nonce; afterwards it reads as used and cannot be cancelled again.
    const cancelNonce = `0x${"cd".repeat(32)}` as Hex;
    const cancelSig = await payer.signTypedData({
      domain,
      types,
      primaryType: "CancelAuthorization",
      message: { authorizer: payer.address, nonce: cancelNonce },
    });
    const cancelHash = await payeeWallet.writeContract({
      address: token.address,
      abi: token.abi,
      functionName: "cancelAuthorization",
      args: [payer.address, cancelNonce, cancelSig],
    });
    expect((await publicClient.waitForTransactionReceipt({ hash: cancelHash })).status).toBe("success");
    expect(
      await publicClient.readContract({
        address: token.address,
        abi: token.abi,
        functionName: "authorizationState",
        args: [payer.address, cancelNonce],
      }),
    ).toBe(true);
    await expect(
      publicClient.simulateContract({
        account: payee.address,
        address: token.address,
        abi: token.abi,
        functionName: "cancelAuthorization",
        args: [payer.address, cancelNonce, cancelSig],
      }),
    ).rejects.toThrow(/authorization is used or canceled/);
  });

  it("mint is owner-only", async () => {
    const { publicClient, token } = s().chain;
    await expect(
      publicClient.simulateContract({
        account: s().accounts.payer.address,
        address: token.address,
        abi: token.abi,
        functionName: "mint",
        args: [s().accounts.payer.address, 1n],
      }),
    ).rejects.toThrow(/caller is not the owner/);
  });
});

describe("official client against the reference @x402/hono seller", () => {
  beforeAll(async () => {
    reference = await startReferenceServer({
      facilitatorUrl: s().facilitatorUrl,
      asset: s().asset,
      payTo: s().accounts.payTo.address,
      network: s().network,
      price: "$0.001",
    });
  });

  it("states the price as PAYMENT-REQUIRED on an unpaid call", async () => {
    if (!reference) throw new Error("reference server did not start");
    expect(reference.amountAtomic).toBe("1000");
    const res = await fetch(reference.paidUrl);
    expect(res.status).toBe(402);
    const header = res.headers.get("payment-required");
    expect(header).toBeTruthy();
    const required = JSON.parse(Buffer.from(header ?? "", "base64").toString("utf8")) as {
      x402Version: number;
      accepts: unknown[];
    };
    expect(required.x402Version).toBe(2);
    expect(required.accepts).toEqual([requirements()]);
  });

  it("wrapFetchWithPayment pays end to end: 200 + PAYMENT-RESPONSE, funds moved once", async () => {
    if (!reference) throw new Error("reference server did not start");
    const before = await balances();
    const payFetch = wrapFetchWithPayment(fetch, payerClient());
    const res = await payFetch(reference.paidUrl);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, paid: true });
    const header = res.headers.get("payment-response");
    expect(header).toBeTruthy();
    const settled = decodePaymentResponseHeader(header ?? "");
    expect(settled).toMatchObject({ success: true, network: "eip155:84532", payer: s().accounts.payer.address });
    const receipt = await s().chain.publicClient.getTransactionReceipt({ hash: settled.transaction as Hex });
    expect(receipt.status).toBe("success");
    const after = await balances();
    expect(before.payer - after.payer).toBe(1000n);
    expect(after.payTo - before.payTo).toBe(1000n);
  });

  it("the official client refuses the local token unless spend controls allow it", async () => {
    if (!reference) throw new Error("reference server did not start");
    const strict = new x402Client();
    strict.register(s().network, new ExactEvmClientScheme(privateKeyToAccount(s().accounts.payer.privateKey)));
    const before = await balances();
    await expect(wrapFetchWithPayment(fetch, strict)(reference.paidUrl)).rejects.toThrow(
      /Failed to create payment payload/,
    );
    expect(await balances()).toEqual(before);
  });
});
