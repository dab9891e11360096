// The one rule for reading a facilitator's reason string as a fact about an EIP-3009 nonce
// (docs/ARCHITECTURE.md §6). The dispatcher uses it to recognise a retry of a payment that already
// settled; the meter's reconciliation uses it to decide a held payment. Both must agree: if one
// read `nonce_used` as "used" and the other did not, the same payment would be replayed by one
// and released (or settled again) by the other.

/**
 * The authorization was already executed on chain: x402's `invalid_exact_evm_nonce_already_used`,
 * `authorization_used`, `nonce_used`, or any reason with the word "used" as its own token
 * (`_used`, `used_`), but never "unused".
 */
export function saysNonceUsed(reason: string | undefined): boolean {
  if (!reason) return false;
  const r = reason.toLowerCase();
  if (r.includes("unused")) return false;
  return /(^|[^a-z])used($|[^a-z])/.test(r);
}

/**
 * Reasons x402's diagnosis reports only after it read `authorizationState == false`: the nonce
 * was unused at that moment (balance, token metadata). Only these prove "not used" for a release.
 */
export function provesNonceUnused(reason: string | undefined): boolean {
  if (!reason) return false;
  return /(insufficient_balance|token_name_mismatch|token_version_mismatch)$/.test(reason.toLowerCase());
}
