// The published receipt keys (x402 `offer-receipt` signer authorization, spec §4.5.1; README
// "Receipts"): `/.well-known/402claw-receipt-keys.json` on the platform and on every API (answered
// ahead of the tenant's code, like its other discovery documents), and the same list in
// `/.well-known/x402`. Pure builders; the handler is a few lines over them.
import { createOfferDomain, createReceiptDomain, OFFER_RECEIPT } from "@x402/extensions/offer-receipt";
import type { TypedDataDomain } from "viem";

export type KeyStatus = "current" | "previous";

/** One published signing key: a did:pkh id (chain 1, as the spec's EIP-712 domain) and its address. */
export interface PublishedKey {
  kid: string;
  address: string;
  status: KeyStatus;
}

export const RECEIPT_KEYS_PATH = "/.well-known/402claw-receipt-keys.json";

export interface ReceiptKeysDocument {
  version: 1;
  extension: typeof OFFER_RECEIPT;
  format: "eip712";
  /** The EIP-712 domains the artifacts are signed in (fixed by the spec, repeated for verifiers). */
  domains: { offer: TypedDataDomain; receipt: TypedDataDomain };
  /** Current key first; receipts signed by a `previous` key stay valid while it is listed. */
  keys: readonly PublishedKey[];
}

export function receiptKeysDocument(keys: readonly PublishedKey[]): ReceiptKeysDocument {
  const domains = { offer: createOfferDomain(), receipt: createReceiptDomain() };
  return { version: 1, extension: OFFER_RECEIPT, format: "eip712", domains, keys };
}

export interface WellKnownReceiptField {
  offerReceipt: { format: "eip712"; keysUrl: string; keys: readonly PublishedKey[] };
}

/** The `/.well-known/x402` field: the keys and where their document is; nothing without keys. */
export function wellKnownReceiptField(
  keys: readonly PublishedKey[],
  baseUrl: string,
): WellKnownReceiptField | Record<string, never> {
  if (keys.length === 0) return {};
  return { offerReceipt: { format: "eip712", keysUrl: `${baseUrl}${RECEIPT_KEYS_PATH}`, keys } };
}
