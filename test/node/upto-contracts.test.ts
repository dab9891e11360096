// Owns: tests of our own Permit2 subset and x402 upto proxy (contracts/) as installed on the
// local chain, called directly (not through the facilitator): the EIP-712 domain and types
// match what @x402/evm signs, and every check of the proxy and Permit2 refuses what it must
// (wrong facilitator, amount above the permit, changed recipient or amount, too early,
// expired, replayed or cancelled nonce) while a valid settle moves exactly the amount asked.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BaseError,
  ContractFunctionRevertedError,
  createWalletClient,
  hashDomain,
  http,
  keccak256,
  parseSignature,
  serializeCompactSignature,
  signatureToCompactSignature,
  toHex,
  type Abi,
  type Address,
  type Hex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { uptoPermit2WitnessTypes } from "@x402/evm";
import { startPaymentStack, type PaymentStack } from "../../cli/stack/index.ts";
import { compileContracts, type CompiledContracts } from "../../cli/stack/compile.ts";
import { PERMIT2_ADDRESS, UPTO_PROXY_ADDRESS } from "../../cli/stack/permit2.ts";
import { POLLING_INTERVAL_MS } from "../../cli/stack/chain.ts";

let stack: PaymentStack | undefined;
let compiled: CompiledContracts | undefined;
const s = (): PaymentStack => {
  if (!stack) throw new Error("stack did not start");
  return stack;
};

beforeAll(async () => {
  // 60 s for anvil to boot: this 2-core machine is shared and often loaded.
  stack = await startPaymentStack({ anvil: { startTimeoutMs: 60_000 } });
  compiled = await compileContracts();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

/** Proxy ABI plus Permit2's errors, so reverts from either contract decode by name. */
const abi = (): Abi => {
  if (!compiled) throw new Error("not compiled");
  return [...compiled.X402UptoPermit2Proxy.abi, ...compiled.Permit2.abi.filter((e) => e.type === "error")];
};

type Permit = {
  token: Address;
  amount: bigint;
  nonce: bigint;
  deadline: bigint;
  to: Address;
  facilitator: Address;
  validAfter: bigint;
};

let nextNonce = 1000n;
function permit(overrides: Partial<Permit> = {}): Permit {
  nextNonce += 257n; // crosses bitmap words now and then
  return {
    token: s().asset.address as Address,
    amount: 500_000n,
    nonce: nextNonce,
    deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
    to: s().accounts.payTo.address,
    // The deployer plays the facilitator here, so these direct calls never touch the running
    // facilitator's account (its serialized sender owns that account's nonces).
    facilitator: s().accounts.deployer.address,
    validAfter: 0n,
    ...overrides,
  };
}

/** The payer's EIP-712 signature with the types @x402/evm's upto client uses. */
function sign(p: Permit): Promise<Hex> {
  return privateKeyToAccount(s().accounts.payer.privateKey).signTypedData({
    domain: { name: "Permit2", chainId: s().chainId, verifyingContract: PERMIT2_ADDRESS },
    types: uptoPermit2WitnessTypes,
    primaryType: "PermitWitnessTransferFrom",
    message: {
      permitted: { token: p.token, amount: p.amount },
      spender: UPTO_PROXY_ADDRESS,
      nonce: p.nonce,
      deadline: p.deadline,
      witness: { to: p.to, facilitator: p.facilitator, validAfter: p.validAfter },
    },
  });
}

function settleArgs(p: Permit, amount: bigint, signature: Hex) {
  return [
    { permitted: { token: p.token, amount: p.amount }, nonce: p.nonce, deadline: p.deadline },
    amount,
    s().accounts.payer.address,
    { to: p.to, facilitator: p.facilitator, validAfter: p.validAfter },
    signature,
  ] as const;
}

/** The custom error a simulated settle from `from` reverts with, or "ok". */
async function simulate(p: Permit, amount: bigint, signature: Hex, from: Address = p.facilitator): Promise<string> {
  try {
    await s().chain.publicClient.simulateContract({
      account: from,
      address: UPTO_PROXY_ADDRESS,
      abi: abi(),
      functionName: "settle",
      args: settleArgs(p, amount, signature),
    });
    return "ok";
  } catch (err) {
    const reverted = err instanceof BaseError ? err.walk((e) => e instanceof ContractFunctionRevertedError) : null;
    if (reverted instanceof ContractFunctionRevertedError) {
      return reverted.data?.errorName ?? reverted.reason ?? "revert";
    }
    throw err;
  }
}

async function send(p: Permit, amount: bigint, signature: Hex): Promise<void> {
  const hash = await s().chain.deployerClient.writeContract({
    address: UPTO_PROXY_ADDRESS,
    abi: abi(),
    functionName: "settle",
    args: settleArgs(p, amount, signature),
  });
  const receipt = await s().chain.publicClient.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe("success");
}

const balances = async () => ({
  payer: await s().chain.balanceOf(s().accounts.payer.address),
  payTo: await s().chain.balanceOf(s().accounts.payTo.address),
});

describe("Permit2 + x402 upto proxy on the local chain", () => {
  it("exposes the canonical EIP-712 domain, witness type and Permit2 address", async () => {
    const read = (address: Address, contractAbi: Abi, functionName: string) =>
      s().chain.publicClient.readContract({ address, abi: contractAbi, functionName });
    const { Permit2, X402UptoPermit2Proxy } = compiled as CompiledContracts;
    expect(await read(PERMIT2_ADDRESS, Permit2.abi, "DOMAIN_SEPARATOR")).toBe(
      hashDomain({
        domain: { name: "Permit2", chainId: BigInt(s().chainId), verifyingContract: PERMIT2_ADDRESS },
        types: {
          EIP712Domain: [
            { name: "name", type: "string" },
            { name: "chainId", type: "uint256" },
            { name: "verifyingContract", type: "address" },
          ],
        },
      }),
    );
    expect(await read(UPTO_PROXY_ADDRESS, X402UptoPermit2Proxy.abi, "PERMIT2")).toBe(PERMIT2_ADDRESS);
    const witnessType = "Witness(address to,address facilitator,uint256 validAfter)";
    expect(uptoPermit2WitnessTypes.Witness.map((f) => `${f.type} ${f.name}`).join(",")).toBe(
      "address to,address facilitator,uint256 validAfter",
    );
    expect(await read(UPTO_PROXY_ADDRESS, X402UptoPermit2Proxy.abi, "WITNESS_TYPEHASH")).toBe(
      keccak256(toHex(witnessType)),
    );
    expect(await read(UPTO_PROXY_ADDRESS, X402UptoPermit2Proxy.abi, "WITNESS_TYPE_STRING")).toBe(
      `Witness witness)TokenPermissions(address token,uint256 amount)${witnessType}`,
    );
  });

  it("settles any amount up to the permit (65- and 64-byte signatures), once per nonce", async () => {
    const before = await balances();
    const a = permit();
    const sigA = await sign(a);
    await send(a, 123_457n, sigA);
    expect(await simulate(a, 1n, sigA)).toBe("InvalidNonce");

    const b = permit();
    const compact = serializeCompactSignature(signatureToCompactSignature(parseSignature(await sign(b))));
    expect((compact.length - 2) / 2).toBe(64);
    await send(b, b.amount, compact);
    const moved = 123_457n + b.amount;
    expect(await balances()).toEqual({ payer: before.payer - moved, payTo: before.payTo + moved });
  });

  it("refuses a wrong caller, too much, a changed recipient or maximum, too early and expired", async () => {
    const before = await balances();
    const p = permit();
    const sig = await sign(p);
    expect(await simulate(p, 1n, sig, s().accounts.facilitator.address)).toBe("UnauthorizedFacilitator");
    expect(await simulate(p, p.amount + 1n, sig)).toBe("AmountExceedsPermitted");
    expect(await simulate({ ...p, to: s().accounts.facilitator.address }, 1n, sig)).toBe("InvalidSigner");
    expect(await simulate({ ...p, amount: p.amount * 2n }, 1n, sig)).toBe("InvalidSigner");
    const facilitator = s().accounts.facilitator.address;
    expect(await simulate({ ...p, facilitator }, 1n, sig, facilitator)).toBe("InvalidSigner");
    expect(await simulate(p, 1n, "0x1234")).toBe("InvalidSignatureLength");

    const early = permit({ validAfter: BigInt(Math.floor(Date.now() / 1000) + 3600) });
    expect(await simulate(early, 1n, await sign(early))).toBe("PaymentTooEarly");
    const expired = permit({ deadline: BigInt(Math.floor(Date.now() / 1000) - 3600) });
    expect(await simulate(expired, 1n, await sign(expired))).toBe("SignatureExpired");

    expect(await simulate(p, p.amount, sig)).toBe("ok"); // the untouched permit is still good
    expect(await balances()).toEqual(before);
  });

  it("lets the payer cancel an unused nonce with invalidateUnorderedNonces", async () => {
    const p = permit();
    const sig = await sign(p);
    expect(await simulate(p, 1n, sig)).toBe("ok");
    const payer = createWalletClient({
      account: privateKeyToAccount(s().accounts.payer.privateKey),
      chain: s().chain.chain,
      transport: http(s().rpcUrl),
      pollingInterval: POLLING_INTERVAL_MS,
    });
    const hash = await payer.writeContract({
      address: PERMIT2_ADDRESS,
      abi: (compiled as CompiledContracts).Permit2.abi,
      functionName: "invalidateUnorderedNonces",
      args: [p.nonce >> 8n, 1n << (p.nonce & 255n)],
    });
    expect((await s().chain.publicClient.waitForTransactionReceipt({ hash })).status).toBe("success");
    expect(await simulate(p, 1n, sig)).toBe("InvalidNonce");
  });
});
