// Shared helpers for tests of `upto` payments on the local stack: requirements built by the
// official x402ResourceServer with @x402/evm's upto server scheme (what a seller — later the
// dispatcher — puts in `accepts`), payloads signed by @x402/evm's upto client scheme, and
// /verify + /settle calls with the phase-dependent `amount` (maximum at verify, actual at settle).
import { privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";
import { x402Client } from "@x402/core/client";
import { HTTPFacilitatorClient, x402ResourceServer } from "@x402/core/server";
import type { PaymentPayload, PaymentRequirements, SettleResponse, VerifyResponse } from "@x402/core/types";
import { UptoEvmScheme as UptoClientScheme } from "@x402/evm/upto/client";
import { UptoEvmScheme as UptoServerScheme } from "@x402/evm/upto/server";
import type { PaymentStack } from "../../../cli/stack/index.ts";

/** Requirements for an `upto` payment of at most `maximum` atomic units, as the official server builds. */
export async function uptoRequirements(stack: PaymentStack, maximum: string): Promise<PaymentRequirements> {
  const server = new x402ResourceServer(new HTTPFacilitatorClient({ url: stack.facilitatorUrl }));
  server.register(stack.network, new UptoServerScheme());
  await server.initialize();
  const [built] = await server.buildPaymentRequirements({
    scheme: "upto",
    network: stack.network,
    price: {
      amount: maximum,
      asset: stack.asset.address,
      extra: { name: stack.asset.name, version: stack.asset.version },
    },
    payTo: stack.accounts.payTo.address,
    maxTimeoutSeconds: 300,
  });
  if (!built) throw new Error("x402ResourceServer built no upto requirements");
  return built;
}

/** A payer as the official client builds one, with the upto scheme, allowed the local token. */
export function uptoPayer(stack: PaymentStack, privateKey: Hex = stack.accounts.payer.privateKey): x402Client {
  const client = new x402Client();
  client.register(stack.network, new UptoClientScheme(privateKeyToAccount(privateKey)));
  client.setSpendControls({ allowedAssets: [{ network: stack.network, asset: stack.asset.address }] });
  return client;
}

/** One signed `upto` authorization for `req.amount` (a fresh random Permit2 nonce each call). */
export function signUpto(client: x402Client, req: PaymentRequirements): Promise<PaymentPayload> {
  return client.createPaymentPayload({
    x402Version: 2,
    resource: { url: "http://127.0.0.1/metered", description: "metered", mimeType: "application/json" },
    accepts: [req],
  });
}

async function post<T>(stack: PaymentStack, path: string, body: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${stack.facilitatorUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** POST /verify with the requirements as offered (amount = the signed maximum). */
export function verifyUpto(stack: PaymentStack, paymentPayload: PaymentPayload, req: PaymentRequirements) {
  return post<VerifyResponse>(stack, "/verify", { x402Version: 2, paymentPayload, paymentRequirements: req });
}

/** POST /settle for `actual` atomic units: the requirements as offered with `amount` replaced. */
export function settleUpto(
  stack: PaymentStack,
  paymentPayload: PaymentPayload,
  req: PaymentRequirements,
  actual: string,
) {
  const paymentRequirements = { ...req, amount: actual };
  return post<SettleResponse>(stack, "/settle", { x402Version: 2, paymentPayload, paymentRequirements });
}

/** The Permit2 authorization inside an upto payload (typed view for assertions). */
export type UptoAuthorization = {
  from: Hex;
  permitted: { token: Hex; amount: string };
  spender: Hex;
  nonce: string;
  deadline: string;
  witness: { to: Hex; facilitator: Hex; validAfter: string };
};

export function authorizationOf(payload: PaymentPayload): { signature: Hex; permit2Authorization: UptoAuthorization } {
  return payload.payload as { signature: Hex; permit2Authorization: UptoAuthorization };
}
