// Secrets are not in wrangler.jsonc (so `wrangler types` cannot see them); declared here.
// Local dev gets them from .dev.vars (written by `npm start`), tests from vitest.config.ts.
interface __BaseEnv_Env {
  /** Operator bearer token for /__platform/* routes. */
  OPERATOR_TOKEN: string;
  /** Server-side HMAC key used to hash API keys at rest. */
  API_KEY_SECRET: string;
}
