// Owns: compiling contracts/*.sol (the local settlement token, Multicall3, and the Permit2 subset
// plus x402 upto proxy that the `upto` scheme settles through) offline with the
// `solc` npm package (solc-js, pinned by package-lock), returning abi + bytecode + runtime code.
//
// Choice: compile at startup, no committed artifact. Measured on this 2-core machine: loading
// solc-js ≈ 0.3 s, compiling both contracts with the optimizer ≈ 1.0 s, so well under the ~3 s
// at which a committed artifact (plus a staleness test) would pay for itself. Compiling from
// source means the Solidity next to it is always exactly what runs, with nothing to keep in sync.
// The result is cached in memory per process (one compile even if several stacks start).
//
// Determinism: the same solc build, the same source unit names (repo-relative, never absolute
// paths), a pinned evmVersion and `bytecodeHash: "none"` (no metadata hash appended) give
// byte-identical output on every run and every machine.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Abi, Hex } from "viem";

export type CompiledContract = {
  abi: Abi;
  /** Creation code (constructor + runtime), for deployment. */
  bytecode: Hex;
  /** Runtime code, for `anvil_setCode`. */
  deployedBytecode: Hex;
};

export type CompiledContracts = {
  ClawUSD: CompiledContract;
  Multicall3: CompiledContract;
  Permit2: CompiledContract;
  X402UptoPermit2Proxy: CompiledContract;
};

/** The contract sources, as repo-relative source unit names (part of the metadata, so stable). */
export const CONTRACT_SOURCES = [
  "contracts/ClawUSD.sol",
  "contracts/Multicall3.sol",
  "contracts/Permit2.sol",
  "contracts/X402UptoPermit2Proxy.sol",
] as const;

/**
 * `cancun` rather than the compiler's default (`osaka` for 0.8.37): anvil 1.7 runs a later
 * fork by default, so cancun code runs there, and it also runs on Base and Base Sepolia today.
 * Pinning it keeps the bytecode from changing when solc's default moves.
 */
export const SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
  metadata: { bytecodeHash: "none" },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
} as const;

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** The solc standard-JSON input for our contracts, read from disk. */
export function standardJsonInput(): object {
  const sources: Record<string, { content: string }> = {};
  for (const unit of CONTRACT_SOURCES) sources[unit] = { content: readFileSync(repoRoot + unit, "utf8") };
  return { language: "Solidity", sources, settings: SOLC_SETTINGS };
}

type SolcOutput = {
  errors?: Array<{ severity: string; formattedMessage: string }>;
  contracts?: Record<
    string,
    Record<string, { abi: Abi; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>
  >;
};

let cached: Promise<CompiledContracts> | undefined;
let lastCompileMs: number | undefined;

/** Compile once per process; later calls get the same result. */
export function compileContracts(): Promise<CompiledContracts> {
  cached ??= compileContractsFresh().catch((err: unknown) => {
    cached = undefined; // let a later call retry (e.g. after the source is fixed in watch mode)
    throw err;
  });
  return cached;
}

/** How long the last fresh compile took (ms), including loading solc; for startup reports. */
export function lastCompileDurationMs(): number | undefined {
  return lastCompileMs;
}

/** Compile without the cache (the determinism test compares two fresh results). */
export async function compileContractsFresh(): Promise<CompiledContracts> {
  const started = performance.now();
  // Imported lazily: solc-js is ~9 MB of emscripten JS; code that only imports this module's
  // types or constants should not pay for loading it.
  const { default: solc } = await import("solc");
  const output = JSON.parse(solc.compile(JSON.stringify(standardJsonInput()))) as SolcOutput;

  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) {
    throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage).join("\n")}`);
  }
  const pick = (unit: string, name: string): CompiledContract => {
    const c = output.contracts?.[unit]?.[name];
    if (!c || !c.evm.bytecode.object) throw new Error(`solc produced no bytecode for ${unit}:${name}`);
    return {
      abi: c.abi,
      bytecode: `0x${c.evm.bytecode.object}`,
      deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
    };
  };
  const result: CompiledContracts = {
    ClawUSD: pick("contracts/ClawUSD.sol", "ClawUSD"),
    Multicall3: pick("contracts/Multicall3.sol", "Multicall3"),
    Permit2: pick("contracts/Permit2.sol", "Permit2"),
    X402UptoPermit2Proxy: pick("contracts/X402UptoPermit2Proxy.sol", "x402UptoPermit2Proxy"),
  };
  lastCompileMs = performance.now() - started;
  return result;
}
