// The platform's receipt signer (x402 `offer-receipt`, docs/ARCHITECTURE.md §6): the current key
// from RECEIPT_SIGNING_KEY and the published list of every key a receipt may carry, current first,
// then the retired ones (RECEIPT_PREVIOUS_SIGNERS) so receipts they signed still verify. Keys are
// EIP-712 signers: a verifier recovers the address from the signature and looks it up in the list.
// Signing takes its nonces from a per-isolate stock made ahead (ecdsa.ts).
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { PlatformConfig } from "../config/env.ts";
import type { PublishedKey } from "./document.ts";
import { NonceStock, signDigest } from "./ecdsa.ts";

export type { PublishedKey } from "./document.ts";

export interface ReceiptSigner {
  kid: string;
  /** Current key first, then the previous ones. */
  keys: readonly PublishedKey[];
  /** The signature (65 bytes, as viem's account.sign) of a 32-byte digest. */
  sign(digest: Hex): Hex;
  /** Makes a nonce ahead, where the caller is about to wait on the network and then sign. */
  prepare(): void;
}

/** Nonces kept ahead per isolate: enough for the paid calls one isolate settles at once. */
const NONCE_STOCK_MAX = 16;

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
  const address = privateKeyToAccount(signingKey).address.toLowerCase();
  const scalar = BigInt(signingKey);
  const nonces = new NonceStock(NONCE_STOCK_MAX);
  const signer: ReceiptSigner = {
    kid: kidOf(address),
    keys: publishedKeys(address, previousSigners),
    sign: (digest) => signDigest(scalar, digest, nonces),
    prepare: () => nonces.prepare(),
  };
  memo = { key: signingKey, previous, signer };
  return signer;
}

/** The published keys of a deployment; without a signing key only the previous ones (nothing new is signed). */
export function deploymentKeys(receipts: PlatformConfig["receipts"]): readonly PublishedKey[] {
  return receiptSigner(receipts)?.keys ?? publishedKeys(null, receipts.previousSigners);
}
