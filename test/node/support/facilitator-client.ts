// Shared helpers for tests that drive the local facilitator directly (cli/stack): payment
// requirements as a seller states them, payloads signed by the official @x402/evm exact client
// scheme, /settle and /health calls, and raw JSON-RPC to anvil.
import { privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";
import { x402Client } from "@x402/core/client";
import type { PaymentPayload, PaymentRequirements, SettleResponse } from "@x402/core/types";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import type { PaymentStack } from "../../../cli/stack/index.ts";
import type { SenderHealth } from "../../../cli/stack/settle-sender.ts";

export function requirements(stack: PaymentStack, amount = "1000"): PaymentRequirements {
  return {
    scheme: "exact",
    network: stack.network,
    asset: stack.asset.address,
    amount,
    payTo: stack.accounts.payTo.address,
    maxTimeoutSeconds: 300,
    extra: { name: stack.asset.name, version: stack.asset.version },
  };
}

/** A payer as the official client builds one, allowed to pay in the local token. */
export function payer(stack: PaymentStack, privateKey: Hex = stack.accounts.payer.privateKey): x402Client {
  const client = new x402Client();
  client.register(stack.network, new ExactEvmScheme(privateKeyToAccount(privateKey)));
  client.setSpendControls({ allowedAssets: [{ network: stack.network, asset: stack.asset.address }] });
  return client;
}

/** One distinct signed payment (fresh EIP-3009 nonce each call). */
export function signPayment(client: x402Client, req: PaymentRequirements): Promise<PaymentPayload> {
  return client.createPaymentPayload({
    x402Version: 2,
    resource: { url: "http://127.0.0.1/stress", description: "stress", mimeType: "application/json" },
    accepts: [req],
  });
}

export async function settle(
  stack: PaymentStack,
  paymentPayload: PaymentPayload,
  paymentRequirements: PaymentRequirements,
): Promise<{ status: number; body: SettleResponse }> {
  const res = await fetch(`${stack.facilitatorUrl}/settle`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ x402Version: 2, paymentPayload, paymentRequirements }),
  });
  return { status: res.status, body: (await res.json()) as SettleResponse };
}

export type FacilitatorHealth = { ok: boolean; network: string; signer: string; queue: SenderHealth };

export async function health(stack: PaymentStack): Promise<FacilitatorHealth> {
  const res = await fetch(`${stack.facilitatorUrl}/health`);
  if (res.status !== 200) throw new Error(`/health answered ${res.status}`);
  return (await res.json()) as FacilitatorHealth;
}

/** Raw JSON-RPC to the node (anvil_* and txpool_* methods viem has no typed action for). */
export async function rpc<T = unknown>(stack: PaymentStack, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(stack.rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

export type TxpoolStatus = { pending: number; queued: number };

export async function txpoolStatus(stack: PaymentStack): Promise<TxpoolStatus> {
  const s = await rpc<{ pending: Hex; queued: Hex }>(stack, "txpool_status");
  return { pending: Number(s.pending), queued: Number(s.queued) };
}

/** Polls `read` until `ok` holds or `timeoutMs` passed; returns the last value read. */
export async function until<T>(
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs: number,
  stepMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, stepMs));
    value = await read();
  }
  return value;
}
