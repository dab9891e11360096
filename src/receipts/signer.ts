// The platform's receipt signer (x402 `offer-receipt`, docs/ARCHITECTURE.md §6): the current key
// from RECEIPT_SIGNING_KEY and the published list of every key a receipt may carry, current first,
// then the retired ones (RECEIPT_PREVIOUS_SIGNERS) so receipts they signed still verify. Keys are
// EIP-712 signers: a verifier recovers the address from the signature and looks it up in the list.
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import type { PlatformConfig } from "../config/env.ts";
import type { PublishedKey } from "./document.ts";

export type { PublishedKey } from "./document.ts";

export interface ReceiptSigner {
  account: PrivateKeyAccount;
  kid: string;
  /** Current key first, then the previous ones. */
  keys: readonly PublishedKey[];
}

export function kidOf(address: string): string {
  return `did:pkh:eip155:1:${address.toLowerCase()}`;
}

/** The published keys without the private key (what a verifier reads). */
export function publishedKeys(current: string | null, previous: readonly string[]): PublishedKey[] {
  const keys: PublishedKey[] = [];
  if (current) keys.push({ kid: kidOf(current), address: current.toLowerCase(), status: "current" });
  for (const address of previous) {
    if (keys.some((k) => k.address === address.toLowerCase())) continue;
    keys.push({ kid: kidOf(address), address: address.toLowerCase(), status: "previous" });
  }
  return keys;
}

// Deriving the public key costs a scalar multiplication: once per isolate and key.
let memo: { key: string; previous: string; signer: ReceiptSigner } | null = null;

/** The signer of this deployment, or null when RECEIPT_SIGNING_KEY is unset (no offers, no receipts). */
export function receiptSigner(receipts: PlatformConfig["receipts"]): ReceiptSigner | null {
  const { signingKey, previousSigners } = receipts;
  if (!signingKey) return null;
  const previous = previousSigners.join(",");
  if (memo?.key === signingKey && memo.previous === previous) return memo.signer;
  const account = privateKeyToAccount(signingKey);
  const address = account.address.toLowerCase();
  const signer = { account, kid: kidOf(address), keys: publishedKeys(address, previousSigners) };
  memo = { key: signingKey, previous, signer };
  return signer;
}

/** The published keys of a deployment; without a signing key only the previous ones (nothing new is signed). */
export function deploymentKeys(receipts: PlatformConfig["receipts"]): readonly PublishedKey[] {
  return receiptSigner(receipts)?.keys ?? publishedKeys(null, receipts.previousSigners);
}
