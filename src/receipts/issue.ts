// Issuing the x402 `offer-receipt` extension (docs/ARCHITECTURE.md §6) with the official
// @x402/extensions implementation, EIP-712 format: the extension's own server hooks build and sign
// a 402's offers and a settlement's receipt (with its `schema`, as x402ResourceServer would), and
// the signer signs the EIP-712 digest (typed-data.ts, ecdsa.ts), which runs in workerd. Signing never
// fails a call: the official hooks log a signing error and return nothing, and the call goes on
// without the artifact.
import type { PaymentPayload, PaymentRequirements, ResourceServerExtension, SettleResponse } from "@x402/core/types";
import {
  createEIP712OfferReceiptIssuer,
  createOfferReceiptExtension,
  declareOfferReceiptExtension,
  OFFER_RECEIPT,
  type EIP712SignedReceipt,
  type SignTypedDataFn,
} from "@x402/extensions/offer-receipt";
import { encodeSettleResponse } from "../payments/header-json.ts";
import type { ReceiptSigner } from "./signer.ts";
import { typedDataDigest } from "./typed-data.ts";

/** Receipts carry the transaction hash: verifiability over privacy (spec §5.2), so a receipt names its payment. */
const DECLARATION = declareOfferReceiptExtension({ includeTxHash: true })[OFFER_RECEIPT];

const extensions = new WeakMap<ReceiptSigner, ResourceServerExtension>();
function extensionOf(signer: ReceiptSigner): ResourceServerExtension {
  let ext = extensions.get(signer);
  if (!ext) {
    // A signature account.signTypedData would verify as, over a digest that skips viem's per-call
    // validation and domain hashing (typed-data.ts), with a nonce made ahead (ecdsa.ts).
    const sign: SignTypedDataFn = async (params) => signer.sign(typedDataDigest(params));
    ext = createOfferReceiptExtension(createEIP712OfferReceiptIssuer(signer.kid, sign));
    extensions.set(signer, ext);
  }
  return ext;
}

// Signing costs a few ms of CPU; a 402 asked again for the same URL and terms reuses its offer
// while at least half of the offer's validity is left. Values, never promises (ARCHITECTURE §6).
const OFFER_CACHE_MAX = 512;
const offerCache = new Map<string, { value: Record<string, unknown>; validUntil: number }>();

/**
 * `{"offer-receipt": {info: {offers: [...]}, schema}}` for a 402 asking `requirements` at
 * `resourceUrl` (each offer valid for the requirements' maxTimeoutSeconds), or null.
 */
export async function offerExtension(
  signer: ReceiptSigner | null,
  requirements: PaymentRequirements,
  resourceUrl: string,
): Promise<Record<string, unknown> | null> {
  if (!signer) return null;
  const key = `${signer.kid}|${resourceUrl}|${JSON.stringify(requirements)}`;
  const now = Math.floor(Date.now() / 1000);
  const hit = offerCache.get(key);
  if (hit && hit.validUntil - now >= requirements.maxTimeoutSeconds / 2) return hit.value;
  const paymentRequiredResponse = { x402Version: 2, resource: { url: resourceUrl }, accepts: [requirements] };
  const context = { requirements: [requirements], resourceInfo: { url: resourceUrl }, paymentRequiredResponse };
  const info = (await extensionOf(signer).enrichPaymentRequiredResponse?.(DECLARATION, context)) as
    | { info?: { offers?: { payload?: { validUntil?: number } }[] } }
    | undefined;
  if (!info) return null;
  const value = { [OFFER_RECEIPT]: info };
  const validUntil = info.info?.offers?.[0]?.payload?.validUntil;
  if (typeof validUntil === "number") {
    offerCache.delete(key);
    offerCache.set(key, { value, validUntil });
    if (offerCache.size > OFFER_CACHE_MAX) offerCache.delete(offerCache.keys().next().value!);
  }
  return value;
}

export interface Settled {
  resourceUrl: string;
  payer: string;
  network: string;
  transaction: string;
  paymentPayload: PaymentPayload;
  requirements: PaymentRequirements;
}

/** The `offer-receipt` extension value of a settled payment (`{info: {receipt}, schema}`), or null. */
export async function receiptExtension(signer: ReceiptSigner | null, s: Settled): Promise<ReceiptExtension | null> {
  if (!signer) return null;
  const context = {
    paymentPayload: s.paymentPayload,
    requirements: s.requirements,
    declaredExtensions: { [OFFER_RECEIPT]: DECLARATION },
    phase: "after-handler" as const,
    result: {
      success: true,
      payer: s.payer,
      network: s.network as PaymentRequirements["network"],
      transaction: s.transaction,
    },
    transportContext: { request: { adapter: { getUrl: () => s.resourceUrl } } },
  };
  const value = (await extensionOf(signer).enrichSettlementResponse?.(DECLARATION, context)) as
    | ReceiptExtension
    | undefined;
  return value?.info?.receipt ? value : null;
}

export interface ReceiptExtension {
  info: { receipt: EIP712SignedReceipt };
  schema: unknown;
}

/** The PAYMENT-RESPONSE header value of `settle`, with the receipt under `extensions["offer-receipt"]`. */
export function withReceipt(settle: SettleResponse, receipt: ReceiptExtension | null): string {
  if (!receipt) return encodeSettleResponse(settle);
  return encodeSettleResponse({ ...settle, extensions: { ...settle.extensions, [OFFER_RECEIPT]: receipt } });
}
