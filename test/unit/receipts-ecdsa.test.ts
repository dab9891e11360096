// The receipt signer's ECDSA with nonces made ahead (src/receipts/ecdsa.ts), in workerd: every
// signature recovers to the signer's address with viem and verifies with @noble/curves as low-s;
// a nonce is never handed out twice; the stock is bounded and fills only after the current turn.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { invert, mod } from "@noble/curves/abstract/modular";
import { secp256k1 } from "@noble/curves/secp256k1";
import { type Hex, hexToBytes, keccak256, recoverAddress, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { freshNonce, NonceStock, signDigest, signWithNonce } from "../../src/receipts/ecdsa.ts";

const N = secp256k1.CURVE.n;
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));
const digestOf = (bytes: Uint8Array): Hex => keccak256(bytes);

describe("receipt ECDSA", () => {
  it("signs so that viem recovers the signer and noble verifies a low-s signature", async () => {
    const stock = new NonceStock(4);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 64 }), async (message) => {
        const key = generatePrivateKey();
        const digest = digestOf(message);
        const signature = signDigest(BigInt(key), digest, stock);
        expect(signature).toMatch(/^0x[0-9a-f]{128}(1b|1c)$/);
        expect(await recoverAddress({ hash: digest, signature })).toBe(privateKeyToAccount(key).address);
        const compact = hexToBytes(signature).slice(0, 64);
        const publicKey = secp256k1.getPublicKey(key.slice(2));
        expect(secp256k1.verify(compact, digest.slice(2), publicKey, { lowS: true })).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it("gives another signature for the same digest each time, all valid (nonces are random)", async () => {
    const key = generatePrivateKey();
    const digest = digestOf(new Uint8Array([1, 2, 3]));
    const stock = new NonceStock(4);
    const signatures = new Set(Array.from({ length: 8 }, () => signDigest(BigInt(key), digest, stock)));
    expect(signatures.size).toBe(8);
    for (const signature of signatures) {
      expect(await recoverAddress({ hash: digest, signature })).toBe(privateKeyToAccount(key).address);
    }
  });

  it("answers null for a digest whose s would be 0, so the caller signs again with another nonce", () => {
    const d = BigInt(generatePrivateKey());
    const nonce = freshNonce();
    const z = mod(-nonce.r * d, N);
    expect(signWithNonce(d, toHex(z, { size: 32 }), nonce)).toBeNull();
    expect(signWithNonce(d, toHex(mod(z + 1n, N), { size: 32 }), nonce)).not.toBeNull();
  });

  it("makes a nonce only after the current turn, keeps at most its maximum, and never hands one out twice", async () => {
    const stock = new NonceStock(3);
    for (let i = 0; i < 5; i++) stock.prepare();
    expect(stock.size).toBe(0);
    await turn();
    expect(stock.size).toBe(3);
    const taken = Array.from({ length: 5 }, () => stock.take());
    expect(stock.size).toBe(0);
    expect(new Set(taken.map((n) => n.kInverse)).size).toBe(5);
    expect(new Set(taken.map((n) => n.r)).size).toBe(5);
  });

  it("a nonce's r and parity are those of k·G", () => {
    const nonce = freshNonce();
    const k = invert(nonce.kInverse, N);
    const point = secp256k1.ProjectivePoint.BASE.multiply(k).toAffine();
    expect(nonce.r).toBe(point.x);
    expect(nonce.yOdd).toBe((point.y & 1n) === 1n);
    expect(k > 0n && k < N).toBe(true);
  });
});
