// Local payment stack: facilitator without a chain, ClawUSD EIP-3009 details, and the reference @x402/hono
// seller paid by the official @x402/fetch client.

import { beforeAll, describe, expect, it } from "vitest";
import { parseSignature, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { x402Client } from "@x402/core/client";
import { decodePaymentResponseHeader } from "@x402/core/http";
import { ExactEvmScheme as ExactEvmClientScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import { freePort } from "../../cli/stack/anvil.ts";
import { startFacilitator } from "../../cli/stack/facilitator.ts";
import { startReferenceServer, type ReferenceServer } from "../../cli/stack/reference-server.ts";
import { TOKEN_NAME, TOKEN_VERSION } from "../../cli/stack/chain.ts";
import {
  balances,
  payerClient,
  requirements,
  s,
  signPayment,
  stopBeforeStack,
  usePaymentStack,
} from "../support/payment-stack.ts";

usePaymentStack();
let reference: ReferenceServer | undefined;
stopBeforeStack(() => reference?.stop());

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
