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

/**
 * The facilitator round trips of the current request, reported as Server-Timing like the
 * dispatcher's (the bench's calls are sequential, so one request's marks are never mixed with
 * another's): the bench compares verify and settle as each server sees them.
 */
let marks: string[] = [];

async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await work();
  } finally {
    marks.push(`${name};dur=${Date.now() - t0}`);
  }
}

class TimedFacilitator extends HTTPFacilitatorClient {
  override verify(...args: Parameters<HTTPFacilitatorClient["verify"]>) {
    return timed("verify", () => super.verify(...args));
  }
  override settle(...args: Parameters<HTTPFacilitatorClient["settle"]>) {
    return timed("settle", () => super.settle(...args));
  }
}

// Built and initialized inside the first request, and the middleware told not to sync on its
// own: its lazy start-up promise would be created in one request and awaited in later ones,
// which workerd refuses (the request hangs). Same facilitator round trips per call otherwise.
async function build(env: ReferenceEnv): Promise<Hono<{ Bindings: ReferenceEnv }>> {
  const server = new x402ResourceServer(new TimedFacilitator({ url: env.FACILITATOR_URL }));
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
    marks = [];
    const res = await app.fetch(request, env, ctx as never);
    if (marks.length === 0) return res;
    const timed = new Response(res.body, res);
    timed.headers.set("server-timing", marks.join(", "));
    return timed;
  },
};
