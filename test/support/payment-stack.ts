// Shared by the payment-stack node tests: one local stack per test file (started in beforeAll, stopped in
// afterAll) and helpers that sign, verify and settle through the official @x402 client code.

import { afterAll, beforeAll, expect } from "vitest";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { x402Client } from "@x402/core/client";
import type { PaymentPayload, PaymentRequirements, SettleResponse, VerifyResponse } from "@x402/core/types";
import { ExactEvmScheme as ExactEvmClientScheme } from "@x402/evm/exact/client";
import { startPaymentStack, type PaymentStack } from "../../cli/stack/index.ts";

let stack: PaymentStack | undefined;
// Servers a test file starts on top of the stack (the reference seller); stopped before the stack.
const stopFirst: Array<() => Promise<void> | undefined> = [];

/** Register a server the test file started, so it stops before the stack does. */
export function stopBeforeStack(stop: () => Promise<void> | undefined): void {
  stopFirst.push(stop);
}

export function s(): PaymentStack {
  if (!stack) throw new Error("stack did not start");
  return stack;
}

/** Start one payment stack for the calling test file (beforeAll) and stop it afterwards (afterAll). */
export function usePaymentStack(): void {
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
    const results = await Promise.allSettled(stopFirst.map((stop) => stop()));
    results.push(...(await Promise.allSettled([stack?.stop()])));
    for (const r of results) if (r.status === "rejected") throw r.reason;
  });
}

// ---------------------------------------------------------------- helpers

/** Requirements exactly as a seller states them (what the dispatcher will put in `accepts`). */
export function requirements(overrides: Partial<PaymentRequirements> = {}): PaymentRequirements {
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
export function payerClient(privateKey: Hex = s().accounts.payer.privateKey): x402Client {
  const client = new x402Client();
  client.register(s().network, new ExactEvmClientScheme(privateKeyToAccount(privateKey)));
  client.setSpendControls({ allowedAssets: [{ network: s().network, asset: s().asset.address }] });
  return client;
}

export async function signPayment(
  req: PaymentRequirements = requirements(),
  privateKey?: Hex,
): Promise<PaymentPayload> {
  return payerClient(privateKey).createPaymentPayload({
    x402Version: 2,
    resource: { url: "http://127.0.0.1/test-resource", description: "test", mimeType: "application/json" },
    accepts: [req],
  });
}

export async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${s().facilitatorUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

export async function verify(
  paymentPayload: PaymentPayload,
  paymentRequirements: PaymentRequirements = requirements(),
): Promise<VerifyResponse> {
  const { status, json } = await post("/verify", { x402Version: 2, paymentPayload, paymentRequirements });
  expect(status).toBe(200);
  return json as unknown as VerifyResponse;
}

export async function settle(
  paymentPayload: PaymentPayload,
  paymentRequirements: PaymentRequirements = requirements(),
): Promise<SettleResponse> {
  const { status, json } = await post("/settle", { x402Version: 2, paymentPayload, paymentRequirements });
  expect(status).toBe(200);
  return json as unknown as SettleResponse;
}

export function eip3009(p: PaymentPayload): {
  signature: Hex;
  authorization: { from: Address; to: Address; value: string; nonce: Hex };
} {
  return p.payload as never;
}

export async function balances(): Promise<{ payer: bigint; payTo: bigint }> {
  const [payer, payTo] = await Promise.all([
    s().chain.balanceOf(s().accounts.payer.address),
    s().chain.balanceOf(s().accounts.payTo.address),
  ]);
  return { payer, payTo };
}
