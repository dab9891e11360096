// Owns: the local x402 facilitator: an HTTP server (node:http, 127.0.0.1) speaking the x402 v2
// facilitator API — POST /verify, POST /settle, GET /supported (+ GET /health) — built on
// @x402/core's `x402Facilitator` with @x402/evm's `exact` scheme (EIP-3009) and `upto` scheme
// (Permit2 `permitWitnessTransferFrom` through the x402 upto proxy, both installed by chain.ts),
// settling on the local anvil chain with a viem wallet. Request parsing: facilitator-request.ts.
//
// `upto` (docs/ARCHITECTURE.md §6): /verify takes requirements with `amount` = the signed
// maximum; /settle takes the same payload with `amount` = the actual charge (≤ the maximum).
// @x402/evm answers a settle of 0 with success and no transaction (the permit stays unused
// until its deadline), and refuses more than the maximum with
// `invalid_upto_evm_payload_settlement_exceeds_amount` before anything is sent.
//
// Contract with callers (the dispatcher, @x402/core's HTTPFacilitatorClient, @x402/hono):
//   - 200 + VerifyResponse / SettleResponse for every well-formed request, including invalid
//     payments (`isValid: false`) and failed settlements (`success: false`); responses are
//     passed through unmodified (`errorMessage` included — the dispatcher strips it).
//   - GET /health: `{ok, network, signer, queue}`; `queue` is the settlement sender's state
//     (SenderHealth in settle-sender.ts); `ok` is false while a settlement nonce is stuck.
//   - 400 JSON `{error: {code, message, details?}}` for malformed input (bad JSON, wrong shape,
//     unsupported x402 version / scheme / network), 404/405/413 as usual.
//   - 502 `rpc_unavailable` when the chain RPC could not be reached, 500 for any other failure
//     of our own, so a caller can tell "the payment is bad" from "the facilitator is broken"
//     and fail closed on the latter.
//   The process never crashes on input: every handler is wrapped.
//
// Pitfalls handled here (docs/ARCHITECTURE.md §6):
//   - Every settlement transaction goes through one serialized sender per signer account
//     (settle-sender.ts): the nonce is read from the chain, the next transaction is signed only
//     once the previous one is mined, a watchdog heals a stuck nonce, and GET /health shows the
//     queue. Concurrent sends with locally incremented nonces (viem's nonce manager, as before)
//     wedged anvil: a transaction that arrives while its predecessor is being mined can be
//     parked for good, and every later nonce queues behind it (foundry-rs/foundry#10122).
//   - Gas is estimated in turn, before a nonce is taken: a reverting settle (e.g. a replayed
//     authorization) then fails without consuming a nonce, so it cannot leave a gap.
//   - viem polls every 50 ms (its default for an unknown chain is 4 s per receipt wait), and a
//     settle's receipt wait every 5 ms (RECEIPT_POLL_MS).
//   - Multicall3 must be on the chain (chain.ts installs it) for failure diagnosis.
//   - RPC outages. @x402/evm 2.27 starts an "is the asset a contract?" getCode check eagerly
//     and abandons it when verification returns early; if that getCode rejects (node down),
//     the rejection is unhandled and Node kills the whole process. Our signer's getCode
//     therefore never rejects (it answers "no code", as x402's own payer check does), and every
//     signer call records transport failures (not contract reverts) for the current request.
//     A verify/settle that failed while the RPC was unreachable is answered 502 `rpc_unavailable`
//     instead of a misleading "invalid signature" — unless a transaction was already broadcast
//     (`settlement_pending` with a hash), which is passed through for reconciliation.
import { AsyncLocalStorage } from "node:async_hooks";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  BaseError,
  concatHex,
  createWalletClient,
  encodeFunctionData,
  http,
  HttpRequestError,
  publicActions,
  TimeoutError,
  type Abi,
  type Address,
  type Hex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { x402Facilitator } from "@x402/core/facilitator";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { toFacilitatorEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/facilitator";
import { UptoEvmScheme } from "@x402/evm/upto/facilitator";
import { localChainDefinition, POLLING_INTERVAL_MS } from "./chain.ts";
import { listenOnLoopback } from "../local/ports.ts";
import { HttpError, parseRequest, readJsonBody, sendJson } from "./facilitator-request.ts";
import { createSettleSender, type SenderClient, type SenderHealth, type SettleSender } from "./settle-sender.ts";

export type StartFacilitatorOptions = {
  rpcUrl: string;
  chainId: number;
  /** Key of the settlement account (pays gas for transferWithAuthorization and upto settles). */
  privateKey: Hex;
  /** Fixed port; default: a free port chosen by the OS. */
  port?: number;
  /** Give up waiting for a settlement receipt after this long (default 30 s). */
  confirmationTimeoutMs?: number;
  /**
   * Longest a settlement waits for its turn in the signer's queue (default 15 s); past that it
   * is refused unsent (`success: false`, no transaction), well before a caller's own 30 s
   * timeout would leave it unknown.
   */
  maxQueueWaitMs?: number;
  /** Request bodies above this size are refused with 413 (default 64 KiB). */
  maxBodyBytes?: number;
  /** Called with unexpected internal errors (default: ignored; they are answered with 500). */
  onError?: (err: unknown) => void;
};

export type FacilitatorServer = {
  /** Base URL without trailing slash, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  /** The settlement signer's address (reported under `signers` by GET /supported). */
  signerAddress: Address;
  /** CAIP-2 network served, e.g. "eip155:84532". */
  network: `eip155:${number}`;
  /** The underlying @x402/core facilitator, for in-process use (hooks, direct calls). */
  facilitator: x402Facilitator;
  /** The settlement sender's queue, as GET /health reports it under `queue`. */
  health: () => SenderHealth;
  /**
   * Calls `listener` once per answered request with when it arrived and when its answer was
   * written (performance.now() of this process), until the returned function is called. The
   * benchmarks time a paid call's legs at this boundary, where workerd's frozen clock cannot.
   */
  onServed(listener: (served: ServedRequest) => void): () => void;
  /** Close the server and all its connections. Idempotent. */
  stop(): Promise<void>;
};

export type ServedRequest = { path: string; arrivedAt: number; answeredAt: number };

// ---------------------------------------------------------------- RPC failure tracking

/** Per-request record of RPC transport failures seen by the signer (see header). */
type RpcTrace = { transportError?: unknown };
const rpcTrace = new AsyncLocalStorage<RpcTrace>();

/** True for "could not talk to the node" (connection refused, timeout, HTTP error), false for reverts. */
function isTransportFailure(err: unknown): boolean {
  return (
    err instanceof BaseError && err.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError) !== null
  );
}

function noteRpcError(err: unknown): void {
  if (!isTransportFailure(err)) return;
  const trace = rpcTrace.getStore();
  if (trace && trace.transportError === undefined) trace.transportError = err;
}

/** Wrap a signer method so transport failures are recorded before being rethrown. */
function traced<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    try {
      return await fn(...args);
    } catch (err) {
      noteRpcError(err);
      throw err;
    }
  };
}

function rpcUnavailable(trace: RpcTrace): HttpError {
  const cause =
    trace.transportError instanceof BaseError ? trace.transportError.shortMessage : String(trace.transportError);
  return new HttpError(502, "rpc_unavailable", `the facilitator could not reach its chain RPC: ${cause}`);
}

// ---------------------------------------------------------------- server

type FacilitatorClient = ReturnType<typeof settlementClient>;

/** How often a settle looks for its receipt: the node is local, so a lookup is one cheap call. */
const RECEIPT_POLL_MS = 5;

function settlementClient(opts: StartFacilitatorOptions) {
  const chain = localChainDefinition(opts.chainId, opts.rpcUrl);
  const account = privateKeyToAccount(opts.privateKey);
  // One retry, not viem's default three with backoff: the node is local, so a failure is an
  // outage, and answering "rpc_unavailable" in ~1 s beats stalling every request for ~8 s.
  const transport = http(opts.rpcUrl, { retryCount: 1, timeout: 10_000 });
  return createWalletClient({ account, chain, transport, pollingInterval: POLLING_INTERVAL_MS }).extend(publicActions);
}

/**
 * The signer shape @x402/evm wants, mapped onto viem; every transaction goes through `sender`.
 * Casts are at the boundary: x402's signer interface uses loose `unknown[]` ABIs, viem's actions
 * are generic over the ABI.
 */
function settlementSigner(client: FacilitatorClient, sender: SettleSender, confirmationTimeoutMs: number) {
  type ReadArgs = Parameters<typeof client.readContract>[0];
  type TypedDataArgs = Parameters<typeof client.verifyTypedData>[0];
  return toFacilitatorEvmSigner(
    {
      address: client.account.address,
      // Never rejects (see header): an RPC failure reads as "no code" and is recorded.
      getCode: async (args) => {
        try {
          return await client.getCode(args);
        } catch (err) {
          noteRpcError(err);
          return undefined;
        }
      },
      readContract: traced((args) => client.readContract({ ...args, args: args.args ?? [] } as ReadArgs)),
      verifyTypedData: traced((args) => client.verifyTypedData(args as TypedDataArgs)),
      writeContract: traced(async (args) => {
        const call = encodeFunctionData({ abi: args.abi as Abi, functionName: args.functionName, args: args.args });
        const data = args.dataSuffix ? concatHex([call, args.dataSuffix]) : call;
        return sender.send({ to: args.address, data, gas: args.gas });
      }),
      sendTransaction: traced((args) => sender.send({ to: args.to, data: args.data })),
      // Polled every RECEIPT_POLL_MS, not the client's 50 ms: the sender answers at broadcast, and
      // anvil's automine may not have made the receipt by viem's first lookup; with 50 ms between
      // the next lookups, a third of all settles took ~60 ms instead of ~12 (BENCHMARKS.md).
      waitForTransactionReceipt: traced((args) =>
        client.waitForTransactionReceipt({ ...args, pollingInterval: RECEIPT_POLL_MS }),
      ),
    },
    { confirmationTimeoutMs },
  );
}

/** Start the facilitator on 127.0.0.1; resolves once it is listening. */
export async function startFacilitator(opts: StartFacilitatorOptions): Promise<FacilitatorServer> {
  const network = `eip155:${opts.chainId}` as const;
  const maxBodyBytes = opts.maxBodyBytes ?? 64 * 1024;
  const confirmationTimeoutMs = opts.confirmationTimeoutMs ?? 30_000;
  const client = settlementClient(opts);
  const account = client.account;
  const sender = createSettleSender({
    client: client as unknown as SenderClient,
    account,
    chainId: opts.chainId,
    maxQueueWaitMs: opts.maxQueueWaitMs ?? 15_000,
  });
  const signer = settlementSigner(client, sender, confirmationTimeoutMs);

  // `register` (v2, our network only) rather than @x402/evm's `registerExactEvmScheme` helper:
  // the helper also registers x402 v1 for every public EVM network it knows (base, polygon, ...),
  // so GET /supported would advertise chains this facilitator cannot reach.
  // Both schemes share the signer, so `upto` settlements go through the same serialized sender.
  const facilitator = new x402Facilitator()
    .register(network, new ExactEvmScheme(signer))
    .register(network, new UptoEvmScheme(signer));

  // Checked up front: x402Facilitator throws (rather than answering) for unregistered kinds.
  const kinds = new Set(facilitator.getSupported().kinds.map((k) => `${k.x402Version}|${k.scheme}|${k.network}`));

  const assertSupported = (p: PaymentPayload, r: PaymentRequirements): void => {
    const key = `${p.x402Version}|${r.scheme}|${r.network}`;
    if (!kinds.has(key)) {
      const message = `this facilitator settles x402 v2 "exact" and "upto" on ${network} only`;
      throw new HttpError(400, "unsupported_scheme_network", `${message} (got ${r.scheme} on ${r.network})`);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://facilitator.local").pathname;
    const route = (method: string): void => {
      if (req.method !== method)
        throw new HttpError(405, "method_not_allowed", `${path} only accepts ${method}`, undefined, { allow: method });
    };
    switch (path) {
      case "/health": {
        route("GET");
        // `ok` turns false while a settlement nonce is stuck (see settle-sender.ts SenderHealth).
        const queue = sender.health();
        return sendJson(res, 200, { ok: !queue.stuck, network, signer: account.address, queue });
      }
      case "/supported": {
        route("GET");
        return sendJson(res, 200, facilitator.getSupported());
      }
      case "/verify": {
        route("POST");
        const { paymentPayload, paymentRequirements } = parseRequest(await readJsonBody(req, maxBodyBytes));
        assertSupported(paymentPayload, paymentRequirements);
        const trace: RpcTrace = {};
        const result = await rpcTrace.run(trace, () => facilitator.verify(paymentPayload, paymentRequirements));
        if (!result.isValid && trace.transportError !== undefined) throw rpcUnavailable(trace);
        return sendJson(res, 200, result);
      }
      case "/settle": {
        route("POST");
        const { paymentPayload, paymentRequirements } = parseRequest(await readJsonBody(req, maxBodyBytes));
        assertSupported(paymentPayload, paymentRequirements);
        const trace: RpcTrace = {};
        const result = await rpcTrace.run(trace, () => facilitator.settle(paymentPayload, paymentRequirements));
        // A broadcast transaction (settlement_pending + hash) is real information: pass it on.
        if (!result.success && !result.transaction && trace.transportError !== undefined) throw rpcUnavailable(trace);
        return sendJson(res, 200, result);
      }
      default:
        throw new HttpError(404, "not_found", `no route ${path}; try POST /verify, POST /settle, GET /supported`);
    }
  };

  const servedListeners = new Set<(served: ServedRequest) => void>();
  const server: Server = createServer((req, res) => {
    if (servedListeners.size > 0) {
      const path = (req.url ?? "").split("?")[0]!;
      const arrivedAt = performance.now();
      res.once("finish", () => {
        const served = { path, arrivedAt, answeredAt: performance.now() };
        for (const listener of servedListeners) listener(served);
      });
    }
    handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) {
        const error: Record<string, unknown> = { code: err.code, message: err.message };
        if (err.details !== undefined) error.details = err.details;
        // For 413 the rest of the body may still be arriving; close instead of draining it.
        if (err.status === 413) res.setHeader("connection", "close");
        sendJson(res, err.status, { error }, err.headers);
        return;
      }
      opts.onError?.(err);
      const message = err instanceof Error ? err.message : String(err);
      sendJson(res, 500, { error: { code: "facilitator_error", message } });
    });
  });
  // Malformed HTTP (not even a request line) must not take the process down either.
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    else socket.destroy();
  });

  const { url, port, stop } = await listenOnLoopback(server, opts.port);

  const stopAll = async (): Promise<void> => {
    sender.stop();
    await stop();
  };
  return {
    url,
    port,
    signerAddress: account.address,
    network,
    facilitator,
    health: () => sender.health(),
    onServed: (listener) => {
      servedListeners.add(listener);
      return () => servedListeners.delete(listener);
    },
    stop: stopAll,
  };
}
