// Benchmark reference: the official @x402/hono seller as a Worker, so it runs in the same
// runtime (workerd under wrangler dev) as the dispatcher and the comparison measures our extra
// work, not the difference between Node and workerd. Configured entirely by vars. Two routes:
//   GET /paid       the bare seller: no x402 extensions, answers {"ok":true,"paid":true}
//   GET /paid-same  the same seller selling what the dispatcher's paid call sells, with the same
//                   x402 extensions (the dispatcher's Bazaar listing of the call, payment-identifier,
//                   signed offers and receipts), each through the official @x402/extensions server
//                   extension, answering the same bytes. Only when LISTING_B64, BODY_B64 and
//                   RECEIPT_KEY are set (bench/paid.ts reads them off the dispatcher's own answers).
// The difference between the two is what the extensions' documents cost a seller
// (docs/ARCHITECTURE.md §10, BENCHMARKS.md "Paid call").
import { Hono, type MiddlewareHandler } from "hono";
import { paymentMiddleware } from "@x402/hono";
import { HTTPFacilitatorClient, x402ResourceServer } from "@x402/core/server";
import { ExactEvmScheme } from "@x402/evm/exact/server";
import type { Network } from "@x402/core/types";
import { bazaarResourceServerExtension } from "@x402/extensions/bazaar";
import {
  createEIP712OfferReceiptIssuer,
  createOfferReceiptExtension,
  declareOfferReceiptExtension,
} from "@x402/extensions/offer-receipt";
import {
  declarePaymentIdentifierExtension,
  paymentIdentifierResourceServerExtension,
} from "@x402/extensions/payment-identifier";
import { privateKeyToAccount } from "viem/accounts";

interface ReferenceEnv {
  FACILITATOR_URL: string;
  NETWORK: string;
  ASSET_ADDRESS: string;
  ASSET_NAME: string;
  ASSET_VERSION: string;
  AMOUNT: string;
  PAY_TO: string;
  /** base64 of the `bazaar` extension ({info, schema}) the dispatcher's 402 carries for its call. */
  LISTING_B64?: string;
  /** base64 of the content the dispatcher's paid call answers. */
  BODY_B64?: string;
  /** hex secp256k1 key that signs this seller's offers and receipts. */
  RECEIPT_KEY?: string;
}

type App = Hono<{ Bindings: ReferenceEnv }>;
let app: App | null = null;

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

function accepts(env: ReferenceEnv) {
  return {
    scheme: "exact" as const,
    network: env.NETWORK as Network,
    payTo: env.PAY_TO,
    price: {
      asset: env.ASSET_ADDRESS,
      amount: env.AMOUNT,
      extra: { name: env.ASSET_NAME, version: env.ASSET_VERSION },
    },
    maxTimeoutSeconds: 60,
  };
}

async function resourceServer(env: ReferenceEnv): Promise<x402ResourceServer> {
  const server = new x402ResourceServer(new TimedFacilitator({ url: env.FACILITATOR_URL }));
  server.register(env.NETWORK as Network, new ExactEvmScheme());
  await server.initialize();
  return server;
}

// Built and initialized inside the first request, and the middleware told not to sync on its
// own: its lazy start-up promise would be created in one request and awaited in later ones,
// which workerd refuses (the request hangs). Same facilitator round trips per call otherwise.
async function bareSeller(env: ReferenceEnv): Promise<MiddlewareHandler> {
  const route = { accepts: accepts(env), description: "reference paid endpoint", mimeType: "application/json" };
  return paymentMiddleware({ "GET /paid": route }, await resourceServer(env), undefined, undefined, false);
}

/** The seller of /paid-same, with the same three extensions as the dispatcher's paid call. */
async function sameSeller(env: ReferenceEnv, listingB64: string, receiptKey: string): Promise<MiddlewareHandler> {
  const server = await resourceServer(env);
  const account = privateKeyToAccount(receiptKey as `0x${string}`);
  // The kid form the dispatcher's signer uses (src/receipts/signer.ts kidOf), written out here so
  // the reference runs none of our code.
  const kid = `did:pkh:eip155:1:${account.address.toLowerCase()}`;
  const issuer = createEIP712OfferReceiptIssuer(kid, (params) => account.signTypedData(params as never));
  server.registerExtension(bazaarResourceServerExtension);
  server.registerExtension(paymentIdentifierResourceServerExtension);
  server.registerExtension(createOfferReceiptExtension(issuer));
  const extensions = {
    bazaar: JSON.parse(atob(listingB64)),
    ...declarePaymentIdentifierExtension(false),
    ...declareOfferReceiptExtension({ includeTxHash: true }),
  };
  const route = {
    accepts: accepts(env),
    description: "reference paid endpoint, same extensions and content as the dispatcher's call",
    mimeType: "application/json",
    extensions,
  };
  return paymentMiddleware({ "GET /paid-same": route }, server, undefined, undefined, false);
}

async function build(env: ReferenceEnv): Promise<App> {
  const hono: App = new Hono();
  hono.use("/paid", await bareSeller(env));
  hono.get("/paid", (c) => c.json({ ok: true, paid: true }));
  const { LISTING_B64, BODY_B64, RECEIPT_KEY } = env;
  if (LISTING_B64 && BODY_B64 && RECEIPT_KEY) {
    hono.use("/paid-same", await sameSeller(env, LISTING_B64, RECEIPT_KEY));
    const body = Uint8Array.from(atob(BODY_B64), (ch) => ch.charCodeAt(0));
    hono.get("/paid-same", (c) => c.body(body, 200, { "content-type": "application/json" }));
  }
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
