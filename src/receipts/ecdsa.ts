// secp256k1 ECDSA for receipts, with the nonce's work done ahead (docs/ARCHITECTURE.md §6).
// A receipt names the settlement's transaction, so it can only be signed once /settle answered,
// and viem's signer then spent ~0.4 ms on the paid call's critical path (BENCHMARKS.md): almost
// all of it the nonce, RFC 6979's HMAC-DRBG and the point k·G, which depend only on the nonce.
// Here the nonce is a uniformly random scalar (FIPS 186-5's per-message secret, the classic
// one) whose point and inverse are made while the isolate waits on the network
// (`NonceStock.prepare`), and signing is the scalar step s = k⁻¹(z + r·d) mod n (~2 µs). The
// signature is the standard one every verifier accepts (low s, 65 bytes r ‖ s ‖ v with
// v = 27 + y parity, as viem's); it is not deterministic.
// A nonce is taken out of the stock before it is used and used once: a reused nonce reveals the
// key. The curve arithmetic is @noble/curves', viem's own; only the scalar step is here.
import { invert, mod } from "@noble/curves/abstract/modular";
import { bytesToNumberBE } from "@noble/curves/abstract/utils";
import { secp256k1 } from "@noble/curves/secp256k1";
import type { Hex } from "viem";

const N = secp256k1.CURVE.n;
const HALF_N = N >> 1n;

/** A one-time nonce k, kept as k⁻¹ mod n, with r = (k·G).x and the parity of (k·G).y. */
export interface Nonce {
  kInverse: bigint;
  r: bigint;
  yOdd: boolean;
}

const word = (n: bigint) => n.toString(16).padStart(64, "0");

/** A fresh random nonce, its point and its inverse: the costly part of a signature (~0.4 ms). */
export function freshNonce(): Nonce {
  for (;;) {
    const k = bytesToNumberBE(secp256k1.utils.randomPrivateKey());
    const point = secp256k1.ProjectivePoint.BASE.multiply(k).toAffine();
    // x ≥ n would need recovery ids 2 or 3, which a 27/28 v cannot carry (probability ~2⁻¹²⁸).
    if (point.x >= N) continue;
    return { kInverse: invert(k, N), r: point.x, yOdd: (point.y & 1n) === 1n };
  }
}

/**
 * The signature of `digest` (32 bytes) by the key `d` with `nonce`, or null for the ~2⁻²⁵⁶ case
 * s = 0 (sign again with another nonce). Pure; the nonce must never be used again.
 */
export function signWithNonce(d: bigint, digest: Hex, nonce: Nonce): Hex | null {
  const z = mod(BigInt(digest), N);
  let s = mod(nonce.kInverse * (z + nonce.r * d), N);
  if (s === 0n) return null;
  let yOdd = nonce.yOdd;
  // Low s (EIP-2): the other root, whose point R has the opposite y.
  if (s > HALF_N) {
    s = N - s;
    yOdd = !yOdd;
  }
  return `0x${word(nonce.r)}${word(s)}${yOdd ? "1c" : "1b"}`;
}

/**
 * Nonces made ahead, per signer and isolate. Values only (never a promise: ARCHITECTURE §6), at
 * most `max`, so an idle isolate holds few. `prepare` is called where a paid call waits on the
 * network before it signs (the /settle round trip): it makes one nonce a turn later, so the
 * request it waits on is written out first.
 */
export class NonceStock {
  private readonly nonces: Nonce[] = [];
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  /** Makes one more nonce after the current turn, unless the stock is full. */
  prepare(): void {
    if (this.nonces.length >= this.max) return;
    setTimeout(() => {
      if (this.nonces.length < this.max) this.nonces.push(freshNonce());
    }, 0);
  }

  /** A nonce no one else gets: one made ahead, else a fresh one. */
  take(): Nonce {
    return this.nonces.pop() ?? freshNonce();
  }

  get size(): number {
    return this.nonces.length;
  }
}

/** Signs `digest` with `d`, taking nonces from `stock`. */
export function signDigest(d: bigint, digest: Hex, stock: NonceStock): Hex {
  for (;;) {
    const signature = signWithNonce(d, digest, stock.take());
    if (signature) return signature;
  }
}
