// Owns: what the x402 `upto` scheme needs on the local chain: our Permit2 subset
// (contracts/Permit2.sol) and x402 upto proxy (contracts/X402UptoPermit2Proxy.sol) written to
// their canonical addresses with anvil_setCode, and a payer's one-time Permit2 approval.
//
// Why canonical addresses: @x402/evm hard-codes them (the client signs for the proxy as spender
// and Permit2 as EIP-712 verifyingContract; the facilitator calls the proxy there), so the
// official clients work unchanged only if the code sits exactly there. Both contracts are
// written for anvil_setCode: no constructor runs, so they hold no immutables (the proxy's
// Permit2 address is a constant) and need no initial storage.
// Why an approval: Permit2 moves tokens with the token's `transferFrom`, so the payer must
// approve Permit2 once (the spec's "Option A: direct user approval"); the local token has no
// EIP-2612 `permit`, so the gas-sponsoring extensions do not apply. docs/ARCHITECTURE.md §6.
import {
  maxUint256,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type PublicClient,
  type TestClient,
  type Transport,
  type WalletClient,
} from "viem";
import { PERMIT2_ADDRESS as X402_PERMIT2_ADDRESS, x402UptoPermit2ProxyAddress } from "@x402/evm";
import type { CompiledContracts } from "./compile.ts";

/** Canonical Permit2 (the same on every chain), as @x402/evm expects it. */
export const PERMIT2_ADDRESS: Address = X402_PERMIT2_ADDRESS;
/** Canonical x402UptoPermit2Proxy, as @x402/evm expects it. */
export const UPTO_PROXY_ADDRESS: Address = x402UptoPermit2ProxyAddress;

/** Write both contracts' runtime code to their canonical addresses and check it landed. */
export async function installUptoContracts(
  testClient: TestClient<"anvil", Transport, Chain>,
  publicClient: PublicClient<Transport, Chain>,
  compiled: CompiledContracts,
): Promise<void> {
  await testClient.setCode({ address: PERMIT2_ADDRESS, bytecode: compiled.Permit2.deployedBytecode });
  await testClient.setCode({ address: UPTO_PROXY_ADDRESS, bytecode: compiled.X402UptoPermit2Proxy.deployedBytecode });
  // The proxy's Permit2 is a Solidity constant; a mismatch with @x402/evm would fail every
  // settlement with an obscure revert, so it is checked here with a clear message.
  const permit2 = await publicClient.readContract({
    address: UPTO_PROXY_ADDRESS,
    abi: compiled.X402UptoPermit2Proxy.abi,
    functionName: "PERMIT2",
  });
  if (typeof permit2 !== "string" || permit2.toLowerCase() !== PERMIT2_ADDRESS.toLowerCase()) {
    throw new Error(`upto proxy points at Permit2 ${String(permit2)}, expected ${PERMIT2_ADDRESS}`);
  }
  const code = await publicClient.getCode({ address: PERMIT2_ADDRESS });
  if (!code || code === "0x") throw new Error("Permit2 code missing after anvil_setCode");
}

/**
 * The payer's one-time `approve(Permit2, max)` on the token, sent by the payer itself (it has
 * gas on anvil). Resolves once mined.
 */
export async function approvePermit2(
  payerClient: WalletClient<Transport, Chain, Account>,
  publicClient: PublicClient<Transport, Chain>,
  token: { address: Address; abi: Abi },
): Promise<void> {
  const hash = await payerClient.writeContract({
    address: token.address,
    abi: token.abi,
    functionName: "approve",
    args: [PERMIT2_ADDRESS, maxUint256],
  });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`Permit2 approval reverted (tx ${hash})`);
}
