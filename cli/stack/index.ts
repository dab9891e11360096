// Owns: `startPaymentStack()` — the whole local payment stack in one call (anvil + ClawUSD +
// Multicall3 + funded demo payer + x402 facilitator), for node tests, `claw dev` and the
// benchmarks. `stop()` tears everything down (facilitator first, then the chain), is idempotent,
// and keeps going if one part fails to stop.
import { deployLocalChain, type DeployLocalChainOptions, type LocalChain } from "./chain.ts";
import { startFacilitator, type FacilitatorServer } from "./facilitator.ts";

export type PaymentStackOptions = DeployLocalChainOptions & {
  /** Fixed facilitator port (default: any free port). */
  facilitatorPort?: number;
  /** Receives unexpected facilitator errors (they are answered with HTTP 500 either way). */
  onFacilitatorError?: (err: unknown) => void;
};

export type PaymentStack = {
  chain: LocalChain;
  facilitator: FacilitatorServer;
  /** Shortcuts for the most used values. */
  rpcUrl: string;
  chainId: number;
  network: `eip155:${number}`;
  facilitatorUrl: string;
  asset: LocalChain["asset"];
  accounts: LocalChain["accounts"];
  /** Milliseconds spent in each startup phase (anvil and compile overlap). */
  timings: LocalChain["timings"] & { facilitatorMs: number; totalMs: number };
  stop(): Promise<void>;
};

export async function startPaymentStack(opts: PaymentStackOptions = {}): Promise<PaymentStack> {
  const t0 = performance.now();
  const chain = await deployLocalChain(opts);
  const t1 = performance.now();
  let facilitator: FacilitatorServer;
  try {
    facilitator = await startFacilitator({
      rpcUrl: chain.rpcUrl,
      chainId: chain.chainId,
      privateKey: chain.accounts.facilitator.privateKey,
      port: opts.facilitatorPort,
      onError: opts.onFacilitatorError,
    });
  } catch (err) {
    await chain.stop();
    throw err;
  }
  const t2 = performance.now();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const errors: unknown[] = [];
      for (const part of [facilitator.stop, chain.stop]) {
        try {
          await part();
        } catch (err) {
          errors.push(err);
        }
      }
      if (errors.length > 0) throw new AggregateError(errors, "payment stack did not stop cleanly");
    })();
    return stopping;
  };

  return {
    chain,
    facilitator,
    rpcUrl: chain.rpcUrl,
    chainId: chain.chainId,
    network: chain.network,
    facilitatorUrl: facilitator.url,
    asset: chain.asset,
    accounts: chain.accounts,
    timings: { ...chain.timings, facilitatorMs: t2 - t1, totalMs: t2 - t0 },
    stop,
  };
}

export {
  deployLocalChain,
  DEV_ACCOUNTS,
  DEV_PRIVATE_KEYS,
  MULTICALL3_ADDRESS,
  TOKEN_DECIMALS,
  TOKEN_NAME,
  TOKEN_SYMBOL,
  TOKEN_VERSION,
} from "./chain.ts";
export type { DevAccount, DevRole, LocalChain } from "./chain.ts";
export { startFacilitator } from "./facilitator.ts";
export type { FacilitatorServer, StartFacilitatorOptions } from "./facilitator.ts";
export { startReferenceServer, serveFetch } from "./reference-server.ts";
export type { ReferenceServer, StartReferenceServerOptions } from "./reference-server.ts";
export { anvilBinaryPath, freePort, startAnvil } from "./anvil.ts";
export type { AnvilInstance, AnvilOptions } from "./anvil.ts";
export { compileContracts } from "./compile.ts";
export type { CompiledContract, CompiledContracts } from "./compile.ts";
