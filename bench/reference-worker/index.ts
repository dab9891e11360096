// Benchmark reference: the official @x402/hono seller as a Worker, so it runs in the same
// runtime (workerd under wrangler dev) as the dispatcher and the comparison measures our extra
// work, not the difference between Node and workerd. Configured entirely by vars.
import { Hono } from "hono";
import { paymentMiddleware } from "@x402/hono";
import { HTTPFacilitatorClient, x402ResourceServer } from "@x402/core/server";
import { ExactEvmScheme } from "@x402/evm/exact/server";
import type { Network } from "@x402/core/types";

interface ReferenceEnv {
  FACILITATOR_URL: string;
  NETWORK: string;
  ASSET_ADDRESS: string;
  ASSET_NAME: string;
  ASSET_VERSION: string;
  AMOUNT: string;
  PAY_TO: string;
}

let app: Hono<{ Bindings: ReferenceEnv }> | null = null;

// Built and initialized inside the first request, and the middleware told not to sync on its
// own: its lazy start-up promise would be created in one request and awaited in later ones,
// which workerd refuses (the request hangs). Same facilitator round trips per call otherwise.
async function build(env: ReferenceEnv): Promise<Hono<{ Bindings: ReferenceEnv }>> {
  const server = new x402ResourceServer(new HTTPFacilitatorClient({ url: env.FACILITATOR_URL }));
  server.register(env.NETWORK as Network, new ExactEvmScheme());
  await server.initialize();
  const hono = new Hono<{ Bindings: ReferenceEnv }>();
  hono.use(
    paymentMiddleware(
      {
        "GET /paid": {
          accepts: {
            scheme: "exact",
            network: env.NETWORK as Network,
            payTo: env.PAY_TO,
            price: {
              asset: env.ASSET_ADDRESS,
              amount: env.AMOUNT,
              extra: { name: env.ASSET_NAME, version: env.ASSET_VERSION },
            },
            maxTimeoutSeconds: 60,
          },
          description: "reference paid endpoint",
          mimeType: "application/json",
        },
      },
      server,
      undefined,
      undefined,
      false,
    ),
  );
  hono.get("/paid", (c) => c.json({ ok: true, paid: true }));
  hono.get("/health", (c) => c.json({ ok: true }));
  return hono;
}

export default {
  async fetch(
    request: Request,
    env: ReferenceEnv,
    ctx: { waitUntil(p: Promise<unknown>): void; passThroughOnException(): void },
  ): Promise<Response> {
    app ??= await build(env);
    return app.fetch(request, env, ctx as never);
  },
};
