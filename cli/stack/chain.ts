// Owns: a ready-to-pay local chain: anvil + the ClawUSD token deployed + Multicall3, Permit2 and
// the x402 upto proxy installed at their canonical addresses (permit2.ts) + a funded demo payer
// that has approved Permit2 once (so it can pay `upto` as well as `exact`). Exposes the dev keys, viem clients, and the
// `asset` descriptor in the TenantConfig shape ({address, name, version, decimals}).
//
// Keys are anvil's well-known dev accounts (mnemonic "test test ... junk"), indices 0-3. They
// are public test keys, never secrets, and make every local run produce the same addresses:
// the token always lands at 0x5FbDB2315678afecb367f032d93F642f64180aa3 (deployer nonce 0), so a
// `claw dev` config can be written once. Roles use separate accounts on purpose: the facilitator
// is the only sender of settlement transactions, so its nonces are never raced by deploys/mints.
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  parseEventLogs,
  type Abi,
  type Address,
  type Chain,
  type Hash,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
  type Account,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { Asset } from "../../src/config/tenant-config.ts";
import { startAnvil, type AnvilInstance, type AnvilOptions } from "./anvil.ts";
import { compileContracts, lastCompileDurationMs } from "./compile.ts";
import { approvePermit2, installUptoContracts } from "./permit2.ts";

export const MULTICALL3_ADDRESS: Address = "0xcA11bde05977b3631167028862bE2a173976CA11";

/** EIP-712 domain of the local token: the same as Base Sepolia USDC, so `extra` looks familiar. */
export const TOKEN_NAME = "USDC";
export const TOKEN_VERSION = "2";
export const TOKEN_SYMBOL = "clawUSD";
export const TOKEN_DECIMALS = 6;

export type DevAccount = { address: Address; privateKey: Hex };

/** anvil's default dev keys (publicly known; local use only). */
export const DEV_PRIVATE_KEYS = {
  /** #0 deploys the token, owns it (mint). */
  deployer: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  /** #1 the facilitator's settlement signer (pays gas for transferWithAuthorization). */
  facilitator: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  /** #2 the demo buyer/agent, funded with tokens; it approves Permit2 once at setup (its only tx). */
  payer: "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  /** #3 the demo creator's payTo wallet. */
  payTo: "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
} as const satisfies Record<string, Hex>;

export type DevRole = keyof typeof DEV_PRIVATE_KEYS;

const devAccount = (privateKey: Hex): DevAccount => ({ address: privateKeyToAccount(privateKey).address, privateKey });

/** The dev accounts with their (checksummed) addresses. */
export const DEV_ACCOUNTS: Readonly<Record<DevRole, DevAccount>> = Object.freeze({
  deployer: devAccount(DEV_PRIVATE_KEYS.deployer), // 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
  facilitator: devAccount(DEV_PRIVATE_KEYS.facilitator), // 0x70997970C51812dc3A010C7d01b50e0d17dc79C8
  payer: devAccount(DEV_PRIVATE_KEYS.payer), // 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC
  payTo: devAccount(DEV_PRIVATE_KEYS.payTo), // 0x90F79bf6EB2c4f870365E785982E1f101E93b906
});

/** Default demo payer funding: 1,000,000 tokens (6 decimals). */
export const DEFAULT_PAYER_FUNDING = 1_000_000n * 10n ** 6n;

/**
 * viem chain object for the local node. `pollingInterval` is set per client (50 ms): viem's
 * default for an unknown chain is 4 s, which turns every receipt wait into a 4 s stall.
 */
export function localChainDefinition(chainId: number, rpcUrl: string): Chain {
  return defineChain({
    id: chainId,
    name: `402claw local (anvil, chain ${chainId})`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
    contracts: { multicall3: { address: MULTICALL3_ADDRESS } },
    testnet: true,
  });
}

export const POLLING_INTERVAL_MS = 50;

export type DeployLocalChainOptions = {
  /** Chain id (default 84532, i.e. network `eip155:84532`). */
  chainId?: number;
  /** Tokens minted to the demo payer, atomic units (default 1,000,000 tokens). */
  payerFunding?: bigint;
  /** Further anvil options (port, extra flags). */
  anvil?: Omit<AnvilOptions, "chainId">;
};

export type LocalChain = {
  rpcUrl: string;
  chainId: number;
  /** CAIP-2 id, e.g. "eip155:84532". */
  network: `eip155:${number}`;
  chain: Chain;
  /** TenantConfig-shaped asset descriptor (also the x402 `asset` + `extra` source). */
  asset: Asset;
  token: { address: Address; abi: Abi };
  accounts: Readonly<Record<DevRole, DevAccount>>;
  publicClient: PublicClient<Transport, Chain>;
  /** Wallet client of the deployer (token owner). */
  deployerClient: WalletClient<Transport, Chain, Account>;
  /** Mint tokens (owner-only on chain; sent by the deployer). Resolves once mined. */
  mint(to: Address, amount: bigint): Promise<Hash>;
  /**
   * Mint `amount` to every address in one go: the transactions are sent back to back with
   * consecutive nonces and their receipts awaited together, so funding the demo market's payers
   * costs about one block wait instead of one per payer. Queued behind (and before) other mints.
   */
  fund(to: readonly Address[], amount: bigint): Promise<Hash[]>;
  balanceOf(owner: Address): Promise<bigint>;
  /**
   * Startup timings in ms, for reports. anvil boot and compilation run in parallel;
   * `compileMs` is 0 when this process had already compiled (cached).
   */
  timings: { anvilMs: number; compileMs: number; deployMs: number; totalMs: number };
  anvil: AnvilInstance;
  stop(): Promise<void>;
};

/** Start anvil, deploy the token, install Multicall3 + Permit2 + upto proxy, fund the demo payer. */
export async function deployLocalChain(opts: DeployLocalChainOptions = {}): Promise<LocalChain> {
  const t0 = performance.now();
  // Compile while anvil boots; both take a few hundred ms and are independent.
  const compiledFresh = lastCompileDurationMs() === undefined;
  const compiledPromise = compileContracts();
  compiledPromise.catch(() => {}); // surfaced below; avoid an unhandled rejection if anvil fails first
  const anvil = await startAnvil({ ...opts.anvil, chainId: opts.chainId });
  const t1 = performance.now();
  try {
    const compiled = await compiledPromise;
    const t2 = performance.now();

    const chain = localChainDefinition(anvil.chainId, anvil.rpcUrl);
    const transport = http(anvil.rpcUrl);
    const publicClient = createPublicClient({ chain, transport, pollingInterval: POLLING_INTERVAL_MS });
    const deployerAccount = privateKeyToAccount(DEV_PRIVATE_KEYS.deployer);
    const deployerClient = createWalletClient({
      account: deployerAccount,
      chain,
      transport,
      pollingInterval: POLLING_INTERVAL_MS,
    });

    // Multicall3 has no constructor and no state, so its runtime code is all it needs.
    const testClient = createTestClient({ mode: "anvil", chain, transport });
    await testClient.setCode({ address: MULTICALL3_ADDRESS, bytecode: compiled.Multicall3.deployedBytecode });
    await installUptoContracts(testClient, publicClient, compiled);

    const deployHash = await deployerClient.deployContract({
      abi: compiled.ClawUSD.abi,
      bytecode: compiled.ClawUSD.bytecode,
      args: [TOKEN_NAME, TOKEN_SYMBOL, TOKEN_VERSION],
    });
    const receipt = await publicClient.waitForTransactionReceipt({ hash: deployHash });
    if (receipt.status !== "success" || !receipt.contractAddress)
      throw new Error(`token deployment failed (tx ${deployHash})`);
    const tokenAddress = getAddress(receipt.contractAddress); // checksummed, like user-facing config
    const abi = compiled.ClawUSD.abi;

    // Mints are sent one at a time by the deployer and awaited, so its nonces stay sequential
    // without a nonce manager (callers must not call mint concurrently with each other).
    let mintQueue: Promise<unknown> = Promise.resolve();
    const mint = (to: Address, amount: bigint): Promise<Hash> => {
      const run = async (): Promise<Hash> => {
        const hash = await deployerClient.writeContract({
          address: tokenAddress,
          abi,
          functionName: "mint",
          args: [to, amount],
        });
        const r = await publicClient.waitForTransactionReceipt({ hash });
        if (r.status !== "success") throw new Error(`mint reverted (tx ${hash})`);
        const minted = parseEventLogs({ abi, eventName: "Transfer", logs: r.logs });
        if (minted.length !== 1) throw new Error(`mint produced ${minted.length} Transfer events (tx ${hash})`);
        return hash;
      };
      const next = mintQueue.then(run, run);
      mintQueue = next.catch(() => {});
      return next;
    };
    const fund = (to: readonly Address[], amount: bigint): Promise<Hash[]> => {
      const run = async (): Promise<Hash[]> => {
        let nonce = await publicClient.getTransactionCount({ address: deployerAccount.address, blockTag: "pending" });
        const hashes: Hash[] = [];
        for (const address of to) {
          const args = [address, amount] as const;
          const request = { address: tokenAddress, abi, functionName: "mint", args, nonce: nonce++ } as const;
          hashes.push(await deployerClient.writeContract(request));
        }
        const receipts = await Promise.all(hashes.map((hash) => publicClient.waitForTransactionReceipt({ hash })));
        const failed = receipts.find((r) => r.status !== "success");
        if (failed) throw new Error(`mint reverted (tx ${failed.transactionHash})`);
        return hashes;
      };
      const next = mintQueue.then(run, run);
      mintQueue = next.catch(() => {});
      return next;
    };
    const balanceOf = async (owner: Address): Promise<bigint> =>
      (await publicClient.readContract({
        address: tokenAddress,
        abi,
        functionName: "balanceOf",
        args: [owner],
      })) as bigint;

    await mint(DEV_ACCOUNTS.payer.address, opts.payerFunding ?? DEFAULT_PAYER_FUNDING);
    // The demo payer's one-time Permit2 approval, part of setup so `upto` works out of the box.
    const payerClient = createWalletClient({
      account: privateKeyToAccount(DEV_PRIVATE_KEYS.payer),
      chain,
      transport,
      pollingInterval: POLLING_INTERVAL_MS,
    });
    await approvePermit2(payerClient, publicClient, { address: tokenAddress, abi });

    // Cheap sanity checks that catch a wrong evmVersion or a broken setCode early, with a
    // clear message instead of an obscure failure in the first payment.
    const [onChainName, onChainVersion, multicallCode] = await Promise.all([
      publicClient.readContract({ address: tokenAddress, abi, functionName: "name" }),
      publicClient.readContract({ address: tokenAddress, abi, functionName: "version" }),
      publicClient.getCode({ address: MULTICALL3_ADDRESS }),
    ]);
    if (onChainName !== TOKEN_NAME || onChainVersion !== TOKEN_VERSION)
      throw new Error("token EIP-712 domain mismatch after deploy");
    if (!multicallCode || multicallCode === "0x") throw new Error("Multicall3 code missing after anvil_setCode");
    const t3 = performance.now();

    return {
      rpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      network: `eip155:${anvil.chainId}`,
      chain,
      asset: { address: tokenAddress, name: TOKEN_NAME, version: TOKEN_VERSION, decimals: TOKEN_DECIMALS },
      token: { address: tokenAddress, abi },
      accounts: DEV_ACCOUNTS,
      publicClient,
      deployerClient,
      mint,
      fund,
      balanceOf,
      timings: {
        anvilMs: t1 - t0,
        compileMs: compiledFresh ? (lastCompileDurationMs() ?? 0) : 0,
        deployMs: t3 - t2,
        totalMs: t3 - t0,
      },
      anvil,
      stop: () => anvil.stop(),
    };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}
