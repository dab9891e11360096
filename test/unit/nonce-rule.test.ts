// The one nonce rule over the reason strings facilitators really emit (@x402/evm's exact and upto
// schemes, as shipped in node_modules/@x402/evm) and the near-misses that must not match.
import { describe, expect, it } from "vitest";
import { provesNonceUnused, saysNonceUsed } from "../../src/x402/nonce-rule.ts";

const USED = [
  "invalid_exact_evm_nonce_already_used",
  "nonce_already_used",
  "authorization_used",
  "authorization_already_used",
  "nonce_used",
  "already_used",
  "INVALID_EXACT_EVM_NONCE_ALREADY_USED",
];
const NOT_USED = [
  "invalid_exact_evm_insufficient_balance",
  "invalid_exact_evm_signature",
  "invalid_exact_evm_payload_authorization_valid_before",
  "invalid_exact_evm_payload_authorization_valid_after",
  "invalid_exact_evm_transaction_failed",
  "invalid_exact_evm_transaction_simulation_failed",
  "invalid_exact_evm_recipient_mismatch",
  "invalid_upto_evm_payload_settlement_exceeds_amount",
  "nonce_unused",
  "unused",
  "caused_by_something",
  "refused",
  "",
];
const PROVES_UNUSED = [
  "invalid_exact_evm_insufficient_balance",
  "invalid_exact_evm_token_name_mismatch",
  "invalid_exact_evm_token_version_mismatch",
];

describe("nonce rule", () => {
  it.each(USED)("reads %s as used", (reason) => expect(saysNonceUsed(reason)).toBe(true));
  it.each(NOT_USED)("does not read %s as used", (reason) => expect(saysNonceUsed(reason)).toBe(false));
  it("reads nothing into a missing reason", () => {
    expect(saysNonceUsed(undefined)).toBe(false);
    expect(provesNonceUnused(undefined)).toBe(false);
  });
  it.each(PROVES_UNUSED)("takes %s as proof the nonce was unused", (reason) =>
    expect(provesNonceUnused(reason)).toBe(true),
  );
  it("never proves unused what it reads as used, nor an ambiguous failure", () => {
    for (const reason of [...USED, "invalid_exact_evm_transaction_failed", "invalid_exact_evm_signature"])
      expect(provesNonceUnused(reason)).toBe(false);
  });
});
