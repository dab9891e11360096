// What the chain says about a held payment (docs/ARCHITECTURE.md §4, §6): the EIP-3009 token's
// own record of an authorization, read over JSON-RPC (CHAIN_RPC_URL, configured by the operator).
// The facilitator cannot tell a used nonce after validBefore (x402 checks expiry first), the
// chain can: `authorizationState(authorizer, nonce)` and the `AuthorizationUsed` event, whose
// log carries the settlement's transaction hash.
//   state false                         → unused: once expired it can never settle (release)
//   state true + AuthorizationUsed log  → used: the transfer happened, with this transaction
//   state true without the log          → unknown (canceled, or a log range the RPC refused)
//   any RPC failure                     → unknown
import { isExpired, type ReconcileAction } from "./reconcile-decision.ts";

/** authorizationState(address,bytes32) */
const AUTHORIZATION_STATE = "0xe94a0102";
/** AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce) */
const AUTHORIZATION_USED = "0x98de503528ee59b575ef0c0a2576a82497bfc029a5685b209e9ec333479b10a5";
const RPC_TIMEOUT_MS = 10_000;

export type ChainAnswer = { state: "used"; transaction: string } | { state: "unused" } | { state: "unknown" };

export interface ChainReader {
  /** Never throws: a failure is `unknown`. */
  authorization(asset: string, authorizer: string, nonce: string): Promise<ChainAnswer>;
}

/** The authorizer and nonce of a payment id (`network:asset:from:nonce`; the network holds a colon). */
export function authorizationOf(paymentId: string): { asset: string; authorizer: string; nonce: string } | null {
  const parts = paymentId.split(":");
  if (parts.length < 4) return null;
  const [asset, authorizer, nonce] = parts.slice(-3) as [string, string, string];
  const hex = /^0x[0-9a-f]+$/i;
  if (!hex.test(asset) || !/^0x[0-9a-f]{40}$/i.test(authorizer) || !/^0x[0-9a-f]{64}$/i.test(nonce)) return null;
  return { asset, authorizer, nonce };
}

/** Whether a decision could be settled by the chain: a hold, a retry after expiry, a commit without its hash. */
export function chainCanHelp(action: ReconcileAction, now: number, validBefore: number): boolean {
  if (action.action === "hold") return true;
  if (action.action === "commit") return action.transaction === null;
  return action.action === "retry" && isExpired(now, validBefore);
}

/** The facilitator's decision, corrected by what the chain knows. */
export function decideWithChain(
  action: ReconcileAction,
  chain: ChainAnswer,
  now: number,
  validBefore: number,
): ReconcileAction {
  if (chain.state === "used") return { action: "commit", transaction: chain.transaction };
  if (chain.state === "unused" && isExpired(now, validBefore) && action.action !== "commit") {
    return { action: "release", reason: "expired; the chain shows the authorization unused" };
  }
  return action;
}

function word(hex: string): string {
  return hex.replace(/^0x/i, "").toLowerCase().padStart(64, "0");
}

/** The token contract over JSON-RPC at `url`. */
export function rpcChain(url: string, fetchImpl: typeof fetch = fetch): ChainReader {
  let id = 0;
  const call = async (method: string, params: unknown[]): Promise<unknown> => {
    const res = await fetchImpl(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
      signal: AbortSignal.timeout(RPC_TIMEOUT_MS),
    });
    if (res.status !== 200) throw new Error(`${method} answered ${res.status}`);
    const body = (await res.json()) as { result?: unknown; error?: unknown };
    if (body.error !== undefined || body.result === undefined) throw new Error(`${method} failed`);
    return body.result;
  };
  return {
    async authorization(asset, authorizer, nonce) {
      try {
        const data = `${AUTHORIZATION_STATE}${word(authorizer)}${word(nonce)}`;
        const state = await call("eth_call", [{ to: asset, data }, "latest"]);
        if (typeof state !== "string" || !/^0x[0-9a-f]*$/i.test(state)) return { state: "unknown" };
        if (BigInt(state === "0x" ? "0x0" : state) === 0n) return { state: "unused" };
        const topics = [AUTHORIZATION_USED, `0x${word(authorizer)}`, `0x${word(nonce)}`];
        const logs = await call("eth_getLogs", [{ address: asset, topics, fromBlock: "earliest", toBlock: "latest" }]);
        const first = Array.isArray(logs) ? (logs[0] as { transactionHash?: unknown } | undefined) : undefined;
        const hash = first?.transactionHash;
        if (typeof hash !== "string" || hash.length === 0) return { state: "unknown" };
        return { state: "used", transaction: hash };
      } catch {
        return { state: "unknown" };
      }
    },
  };
}
