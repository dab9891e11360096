// Owns: the reference x402 seller — the official @x402/hono `paymentMiddleware` in front of a
// tiny Hono app, served on 127.0.0.1 by node:http. The benchmarks compare our dispatcher's paid
// path against this (docs/ARCHITECTURE.md §10), and the stack tests use it to prove the local facilitator
// works with the official client end to end. It deliberately uses only the documented, default
// @x402 server setup (x402ResourceServer + HTTPFacilitatorClient + exact EVM server scheme), so
// it measures "what a creator gets from the reference stack", not a tuned variant.
//
// @hono/node-server is not installed, so `serveFetch` wires a fetch handler to node:http itself
// (a few lines; enough for JSON APIs, no streaming of large request bodies).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { listenOnLoopback } from "../local/ports.ts";
import { Hono } from "hono";
import { paymentMiddleware } from "@x402/hono";
import { HTTPFacilitatorClient, x402ResourceServer } from "@x402/core/server";
import type { Money, Network } from "@x402/core/types";
import { convertToTokenAmount, parseMoney } from "@x402/core/utils";
import { ExactEvmScheme } from "@x402/evm/exact/server";
import type { Asset } from "../../src/config/tenant-config.ts";

export type ServedFetch = { url: string; port: number; server: Server; stop(): Promise<void> };

/** Serve a WHATWG fetch handler (e.g. `app.fetch`) on 127.0.0.1 with node:http. */
export async function serveFetch(
  fetchHandler: (req: Request) => Response | Promise<Response>,
  opts: { port?: number } = {},
): Promise<ServedFetch> {
  const server = createServer((req, res) => {
    bridge(fetchHandler, req, res).catch(() => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end('{"error":"internal"}');
      } else {
        res.destroy();
      }
    });
  });
  const { url, port, stop } = await listenOnLoopback(server, opts.port);
  return { url, port, server, stop };
}

async function bridge(
  fetchHandler: (req: Request) => Response | Promise<Response>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  let body: Uint8Array<ArrayBuffer> | undefined;
  if (req.method !== "GET" && req.method !== "HEAD") {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    body = new Uint8Array(Buffer.concat(chunks)); // a plain ArrayBuffer copy, as BodyInit wants
  }
  const url = `http://${req.headers.host ?? "127.0.0.1"}${req.url ?? "/"}`;
  const response = await fetchHandler(new Request(url, { method: req.method, headers, body }));
  const outHeaders: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name === "set-cookie") return; // handled below (fetch joins them otherwise)
    outHeaders[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) outHeaders["set-cookie"] = cookies;
  const payload = Buffer.from(await response.arrayBuffer());
  delete outHeaders["transfer-encoding"];
  outHeaders["content-length"] = String(payload.length);
  res.writeHead(response.status, outHeaders);
  res.end(req.method === "HEAD" ? undefined : payload);
}

export type StartReferenceServerOptions = {
  /** Base URL of an x402 facilitator (e.g. the local one from startFacilitator). */
  facilitatorUrl: string;
  /** The settlement token (TenantConfig asset shape). */
  asset: Asset;
  /** Seller wallet that receives payments. */
  payTo: string;
  /** CAIP-2 network, e.g. "eip155:84532". */
  network: Network;
  /** Price in USD, e.g. "$0.001" or 0.001; converted to atomic units with asset.decimals. */
  price: Money;
  /** Paid route path (default "/paid"). */
  path?: string;
  maxTimeoutSeconds?: number;
  port?: number;
};

export type ReferenceServer = ServedFetch & {
  /** Full URL of the paid route. */
  paidUrl: string;
  /** Full URL of an unpaid route on the same app (for baseline latency). */
  freeUrl: string;
  /** The atomic amount charged per call, e.g. "1000" for $0.001 at 6 decimals. */
  amountAtomic: string;
};

/**
 * Start the reference seller: `GET <path>` costs `price` and returns a small JSON body;
 * `GET /free` and `GET /health` are unpaid. Resolves once the middleware has synced with the
 * facilitator (GET /supported) and answered a first unpaid request with 402.
 */
export async function startReferenceServer(opts: StartReferenceServerOptions): Promise<ReferenceServer> {
  const path = opts.path ?? "/paid";
  const { amount: usd, symbol } = parseMoney(opts.price);
  if (symbol) throw new Error(`reference server prices are in USD, got ${String(opts.price)}`);
  const amountAtomic = convertToTokenAmount(usd, opts.asset.decimals);

  const resourceServer = new x402ResourceServer(new HTTPFacilitatorClient({ url: opts.facilitatorUrl }));
  resourceServer.register(opts.network, new ExactEvmScheme());

  const app = new Hono();
  app.use(
    paymentMiddleware(
      {
        [`GET ${path}`]: {
          accepts: {
            scheme: "exact",
            network: opts.network,
            payTo: opts.payTo,
            // An explicit AssetAmount: the local token is not one of @x402/evm's default assets,
            // so a "$0.001" price alone would resolve to the real Base Sepolia USDC address.
            price: {
              asset: opts.asset.address,
              amount: amountAtomic,
              extra: { name: opts.asset.name, version: opts.asset.version },
            },
            maxTimeoutSeconds: opts.maxTimeoutSeconds ?? 60,
          },
          description: "402claw reference paid endpoint",
          mimeType: "application/json",
        },
      },
      resourceServer,
    ),
  );
  app.get(path, (c) => c.json({ ok: true, paid: true, at: Date.now() }));
  app.get("/free", (c) => c.json({ ok: true, paid: false, at: Date.now() }));
  app.get("/health", (c) => c.json({ ok: true }));

  const served = await serveFetch(app.fetch, { port: opts.port });
  const paidUrl = `${served.url}${path}`;
  try {
    // Warm-up: surfaces a facilitator/config problem now, and keeps middleware initialisation
    // out of the first measured request.
    const probe = await fetch(paidUrl);
    await probe.arrayBuffer();
    if (probe.status !== 402)
      throw new Error(`reference server: expected 402 from unpaid ${paidUrl}, got ${probe.status}`);
  } catch (err) {
    await served.stop();
    throw err;
  }
  return { ...served, paidUrl, freeUrl: `${served.url}/free`, amountAtomic };
}
