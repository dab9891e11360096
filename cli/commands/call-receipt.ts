// `claw call`'s check of the signed receipt (x402 offer-receipt, README "Receipts"): the receipt
// in PAYMENT-RESPONSE (the official extractor) is verified with the official EIP-712 verifier
// against the keys the API's origin publishes at /.well-known/402claw-receipt-keys.json, and must
// name this call: the URL the 402 offered, our wallet, the settlement's network and transaction.
// The offer of the 402 that was paid is checked the same way. Never throws: a failure is a reason.
import { extractOffersFromPaymentRequired, extractReceiptFromResponse } from "@x402/extensions/offer-receipt";
import type { PaymentRequired, PaymentRequirements } from "@x402/core/types";
import { RECEIPT_KEYS_PATH } from "../../src/receipts/document.ts";
import {
  parseKeysDocument,
  verifyOffer,
  verifyReceipt,
  type KeysDocument,
  type Verified,
} from "../../src/receipts/verify.ts";

/** A receipt issued a little ahead of our clock still counts (seconds). */
const CLOCK_SKEW_SECONDS = 300;

export interface CheckedArtifact {
  verified: boolean;
  /** Why it is not verified (absent when verified). */
  reason?: string;
  /** The recovered signer, its key id and whether it is the current or a previous key. */
  signer?: string;
  kid?: string;
  keyStatus?: "current" | "previous";
}

export interface CheckedReceipt extends CheckedArtifact {
  /** The signed receipt as the API sent it. */
  receipt: unknown;
}

/** The 402 that was paid, as `claw call` kept it. */
export interface PaidOffer {
  required: PaymentRequired;
  accepted: PaymentRequirements;
}

async function publishedKeys(origin: string): Promise<{ doc: KeysDocument } | { problem: string }> {
  try {
    const res = await fetch(`${origin}${RECEIPT_KEYS_PATH}`, { headers: { accept: "application/json" } });
    if (!res.ok) return { problem: `${origin}${RECEIPT_KEYS_PATH} answered HTTP ${res.status}` };
    return parseKeysDocument(await res.json());
  } catch (err) {
    return { problem: `cannot read ${origin}${RECEIPT_KEYS_PATH}: ${(err as Error).message}` };
  }
}

function outcome<T>(result: Verified<T>): CheckedArtifact {
  if (!result.ok) return { verified: false, reason: result.reason };
  return { verified: true, signer: result.signer, kid: result.kid, keyStatus: result.status };
}

/** The receipt of a paid response checked against the published keys, or null when it has none. */
export async function checkReceipt(
  response: Response,
  call: { url: URL; payer: string | null; network?: string; transaction?: string; offered?: PaidOffer | null },
): Promise<{ receipt: CheckedReceipt | null; offer: CheckedArtifact | null }> {
  const receipt = extractReceiptFromResponse(response) ?? null;
  const offers = call.offered ? extractOffersFromPaymentRequired(call.offered.required) : [];
  if (!receipt && offers.length === 0) return { receipt: null, offer: null };
  const keys = await publishedKeys(call.url.origin);
  if ("problem" in keys) {
    const failed = { verified: false, reason: keys.problem };
    return { receipt: receipt ? { ...failed, receipt } : null, offer: offers.length ? failed : null };
  }
  let offer: CheckedArtifact | null = null;
  if (call.offered && offers.length > 0) {
    const { accepted, required } = call.offered;
    const { scheme, network, asset, payTo, amount } = accepted;
    const terms = { resourceUrl: required.resource.url, scheme, network, asset, payTo, amount };
    const results = await Promise.all(offers.map((o) => verifyOffer(o, keys.doc, terms)));
    offer = outcome(results.find((r) => r.ok) ?? results[0]!);
  }
  if (!receipt) return { receipt: null, offer };
  const expect = {
    resourceUrl: call.offered?.required.resource.url ?? call.url.href,
    ...(call.payer ? { payer: call.payer } : {}),
    ...(call.network ? { network: call.network } : {}),
    ...(call.transaction ? { transaction: call.transaction } : {}),
    notAfter: Math.floor(Date.now() / 1000) + CLOCK_SKEW_SECONDS,
  };
  return { receipt: { ...outcome(await verifyReceipt(receipt, keys.doc, expect)), receipt }, offer };
}

/** One human line about a checked artifact. */
export function describeCheck(what: string, checked: CheckedArtifact): string {
  if (!checked.verified) return `${what} NOT verified: ${checked.reason}`;
  const key = checked.keyStatus === "previous" ? "a previous key, still published" : "the current key";
  return `${what} verified: signed by ${checked.kid} (${key})`;
}
