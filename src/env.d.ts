// Types `wrangler types` cannot see: secrets (local dev gets them from .dev.vars written by
// `npm start`, tests from vitest.config.ts) and the main module's exports for ctx.exports.
interface __BaseEnv_Env {
  /** Operator bearer token for /__platform/* routes. */
  OPERATOR_TOKEN: string;
  /** Server-side HMAC key used to hash API keys (and caller IPs) at rest. */
  API_KEY_SECRET: string;
  /** Master key for tenant secrets at rest (AES-GCM keys derived per tenant with HKDF). */
  SECRETS_KEY: string;
  /** x402 facilitator base URL (POST /verify, /settle); the TenantMeter reconciles pending settlements with it. Optional. */
  FACILITATOR_URL?: string;
  /**
   * JSON-RPC URL of the payment chain; the TenantMeter reads the token's record of held payments
   * with it (objects/meter/chain.ts). Optional.
   */
  CHAIN_RPC_URL?: string;
  /** Cloudflare API token (Workers Scripts: Edit) the control plane uploads tenant scripts with (POST /v1/tenants/:slug/publish). Optional: without it publishing answers 503. */
  CF_API_TOKEN?: string;
  /**
   * Receipt signing key: a 32-byte secp256k1 private key (hex). With it every 402 carries a signed
   * offer and every settled PAYMENT-RESPONSE a signed receipt (x402 `offer-receipt`, EIP-712);
   * its address is published in /.well-known/402claw-receipt-keys.json. Optional: without it, none.
   */
  RECEIPT_SIGNING_KEY?: string;
  /** Comma-separated addresses of retired receipt keys, still published so their receipts verify. Optional. */
  RECEIPT_PREVIOUS_SIGNERS?: string;
  /** CAIP-2 network new paid APIs default to, as told to the CLI by GET /v1/platform (default eip155:84532). Optional. */
  PLATFORM_NETWORK?: string;
  /** Settlement asset JSON {address, name, version, decimals} for that network (`claw dev` sets the local token). Optional: default the known USDC. */
  PLATFORM_ASSET?: string;
}

declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("./index.ts");
    durableNamespaces: "TenantMeter" | "Leaderboard" | "TelemetrySink";
  }
}
