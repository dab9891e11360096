// Signed receipts on a real paid call (x402 offer-receipt): the official @x402/fetch client pays
// the dispatcher (wrangler dev) on the local chain; the PAYMENT-RESPONSE carries a receipt that
// verifies with the key the platform publishes, names this payment's resource, payer, network
// and transaction (whose Transfer on chain is the amount paid), and fails verification once any
// of that is changed. A replay of the payment returns the same receipt, the ledger row carries
// it, and `claw call` verifies it (and the 402's offer) itself.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEventLogs, type Hex } from "viem";
import { decodePaymentResponseHeader } from "@x402/core/http";
import { extractReceiptFromResponse, OFFER_RECEIPT } from "@x402/extensions/offer-receipt";
import { parseKeysDocument, verifyReceipt, type KeysDocument } from "../../src/receipts/verify.ts";
import { claw } from "./support/claw-cli.ts";
import {
  deployPaid,
  earnings,
  eventually,
  payingFetch,
  signedPaymentHeader,
  startPaidEnv,
  type PaidEnv,
} from "./support/paid-env.ts";

let env: PaidEnv;
let keys: KeysDocument;

beforeAll(async () => {
  env = await startPaidEnv();
  const res = await fetch(`${env.stack.apiUrl}/.well-known/402claw-receipt-keys.json`);
  const parsed = parseKeysDocument(await res.json());
  if ("problem" in parsed) throw new Error(parsed.problem);
  keys = parsed.doc;
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

/** Pays `url` once with the official client; the response, its settlement and its receipt. */
async function paidCall(url: string) {
  const res = await payingFetch(env)(url);
  expect(res.status).toBe(200);
  const settle = decodePaymentResponseHeader(res.headers.get("payment-response")!);
  const receipt = extractReceiptFromResponse(res);
  expect(receipt, "PAYMENT-RESPONSE carries a receipt").toBeDefined();
  return { res, settle, receipt: receipt! };
}

describe("signed receipts on the local chain", () => {
  it("the dev stack publishes one current key", () => {
    expect(keys.keys).toHaveLength(1);
    expect(keys.keys[0]).toMatchObject({ status: "current" });
  });

  it("a paid call's receipt verifies with the published key and binds this payment", async () => {
    const { url } = await deployPaid(env);
    const payer = env.stack.payments.accounts.payer.address;
    const { settle, receipt } = await paidCall(url);
    const expected = { resourceUrl: url, payer, network: env.stack.payments.network, transaction: settle.transaction };
    const verified = await verifyReceipt(receipt, keys, expected);
    expect(verified).toMatchObject({ ok: true, signer: keys.keys[0]!.address, status: "current" });
    // The schema the official extension declares travels with it.
    expect((settle.extensions?.[OFFER_RECEIPT] as { schema?: unknown } | undefined)?.schema).toBeDefined();
    // The receipt's transaction is this payment: its Transfer moved the price from the payer.
    const chain = env.stack.payments.chain;
    const txReceipt = await chain.publicClient.getTransactionReceipt({ hash: settle.transaction as Hex });
    const [transfer] = parseEventLogs({ abi: chain.token.abi, eventName: "Transfer", logs: txReceipt.logs }) as any[];
    expect(transfer.args.value).toBe(1000n);
    expect(transfer.args.from.toLowerCase()).toBe(payer.toLowerCase());
  });

  it("a receipt with its transaction, payer, resource or time changed does not verify", async () => {
    const { url } = await deployPaid(env);
    const { receipt } = await paidCall(url);
    expect((await verifyReceipt(receipt, keys)).ok).toBe(true);
    const p = (receipt as unknown as { payload: Record<string, unknown> }).payload;
    const changes = {
      transaction: `0x${"0".repeat(64)}`,
      payer: env.stack.payments.accounts.payTo.address,
      resourceUrl: `${url}&more=1`,
      issuedAt: (p.issuedAt as number) - 3600,
    };
    for (const [field, value] of Object.entries(changes)) {
      const tampered = { ...receipt, payload: { ...p, [field]: value } };
      const result = await verifyReceipt(tampered, keys);
      expect(result.ok, field).toBe(false);
    }
  });

  it("a replay of the payment returns the same receipt, and the ledger row carries it", async () => {
    const { slug, url } = await deployPaid(env);
    const header = await signedPaymentHeader(env, url);
    const first = await fetch(url, { headers: { "payment-signature": header } });
    expect(first.status).toBe(200);
    const receipt = extractReceiptFromResponse(first);
    expect((await verifyReceipt(receipt, keys)).ok).toBe(true);
    let again = await fetch(url, { headers: { "payment-signature": header } });
    for (let i = 0; again.status === 409 && i < 30; i++) {
      await new Promise((r) => setTimeout(r, 100));
      again = await fetch(url, { headers: { "payment-signature": header } });
    }
    expect(again.status).toBe(200);
    expect(again.headers.get("x-payment-deduped")).toBe("true");
    expect(extractReceiptFromResponse(again)).toEqual(receipt);

    const ledger = await eventually(
      () => earnings(env, slug),
      (e) => e.items?.length === 1,
    );
    expect(ledger.items[0].receipt).toEqual(receipt);
    expect(ledger.items[0].transaction).toBe((receipt as { payload: { transaction: string } }).payload.transaction);
  });

  it("claw call verifies the receipt and the 402's offer, and says so in --json", async () => {
    const { url } = await deployPaid(env);
    const call = await claw(["call", url, "--key", env.stack.payments.accounts.payer.privateKey, "--json"]);
    expect(call.code, call.stderr).toBe(0);
    expect(call.json.status).toBe(200);
    const key = keys.keys[0]!;
    expect(call.json.receipt).toMatchObject({
      verified: true,
      signer: key.address,
      kid: key.kid,
      keyStatus: "current",
    });
    expect(call.json.receipt.receipt.payload).toMatchObject({ resourceUrl: url, transaction: call.json.transaction });
    expect(call.json.offer).toMatchObject({ verified: true, signer: key.address });
    const human = await claw(["call", url, "--key", env.stack.payments.accounts.payer.privateKey]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stderr).toContain(`receipt verified: signed by ${key.kid} (the current key)`);
  });
});
