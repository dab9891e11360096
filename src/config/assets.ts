// Known settlement assets per network; a tenant may name its own `asset` instead.
import type { Asset } from "./tenant-config.ts";

export const KNOWN_ASSETS: Readonly<Record<string, Asset>> = {
  // USDC on Base Sepolia (EIP-712 domain "USDC" / "2").
  "eip155:84532": { address: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", name: "USDC", version: "2", decimals: 6 },
  // USDC on Base mainnet.
  "eip155:8453": { address: "0x833589fCD6eDb6E08f4c7C32D4b787a57A4d6B2f", name: "USD Coin", version: "2", decimals: 6 },
};

/** The tenant's asset, else the known asset of its network, else null (the caller must refuse). */
export function assetFor(network: string, explicit: Asset | undefined): Asset | null {
  return explicit ?? KNOWN_ASSETS[network] ?? null;
}
