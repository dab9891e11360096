// The EIP-712 digest of an offer or a receipt (docs/ARCHITECTURE.md §6), on the paid call's
// critical path. viem's hashTypedData validates every field and hashes the domain again on every
// call, the larger part of the receipt's cost in a CPU profile of paid calls. The offer-receipt types
// use only `string` and `uint256` fields, whose encoding is simple: a string is the keccak of its
// UTF-8 bytes, a uint256 its 32-byte big-endian value; the type hash and the domain separator
// (constant per type and domain) are computed once. A string's hash is kept too (LRU, bounded):
// keccak is JavaScript here (~15 µs a block) and was most of a receipt's digest, while the
// network, resource URL and payer repeat from call to call. Any other shape falls back to viem, so
// the digest is always the standard one (tested against hashTypedData with fast-check). Pure.
import { hashTypedData, keccak256, type Hex, type TypedDataDomain } from "viem";

export interface TypedDataParams {
  domain: TypedDataDomain;
  types: Record<string, readonly { name: string; type: string }[]>;
  primaryType: string;
  message: Record<string, unknown>;
}

const UTF8 = new TextEncoder();
const MAX_UINT256 = (1n << 256n) - 1n;
const SIMPLE = new Set(["string", "uint256"]);
const memo = new Map<string, Uint8Array>();
const MEMO_MAX = 64;
/** String hashes kept per isolate, and the longest string kept (longer ones are hashed each time). */
const STRING_MEMO_MAX = 1024;
const STRING_MEMO_MAX_LENGTH = 512;
const stringHashes = new Map<string, Uint8Array>();

const keccak = (bytes: Uint8Array): Uint8Array => keccak256(bytes, "bytes");

function remember(key: string, value: Uint8Array): Uint8Array {
  if (memo.size >= MEMO_MAX) memo.delete(memo.keys().next().value!);
  memo.set(key, value);
  return value;
}

/** keccak of a string's UTF-8 bytes: the word a `string` field encodes to. */
function stringWord(value: string): Uint8Array {
  const known = stringHashes.get(value);
  if (known) {
    // Least recently used goes first: a hash seen once (a transaction) never pushes out a hot one.
    stringHashes.delete(value);
    stringHashes.set(value, known);
    return known;
  }
  const word = keccak(UTF8.encode(value));
  if (value.length > STRING_MEMO_MAX_LENGTH) return word;
  if (stringHashes.size >= STRING_MEMO_MAX) stringHashes.delete(stringHashes.keys().next().value!);
  stringHashes.set(value, word);
  return word;
}

/** A uint256 word, or null for a value hashTypedData would refuse or read otherwise. */
function uint256Word(value: unknown): Uint8Array | null {
  let n: bigint;
  if (typeof value === "bigint") n = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) n = BigInt(value);
  else return null;
  if (n < 0n || n > MAX_UINT256) return null;
  const word = new Uint8Array(32);
  for (let i = 31; i >= 0 && n > 0n; i--, n >>= 8n) word[i] = Number(n & 0xffn);
  return word;
}

/** keccak(typeHash ‖ encoded fields) for a struct of string/uint256 fields, or null if it is not one. */
function simpleStructHash(
  name: string,
  fields: readonly { name: string; type: string }[],
  data: Record<string, unknown>,
) {
  if (!fields.every((f) => SIMPLE.has(f.type))) return null;
  const signature = `${name}(${fields.map((f) => `${f.type} ${f.name}`).join(",")})`;
  const typeHash = memo.get(signature) ?? remember(signature, keccak(UTF8.encode(signature)));
  const encoded = new Uint8Array(32 * (fields.length + 1));
  encoded.set(typeHash, 0);
  for (const [i, field] of fields.entries()) {
    const value = data[field.name];
    let word: Uint8Array | null;
    if (field.type === "string") word = typeof value === "string" ? stringWord(value) : null;
    else word = uint256Word(value);
    if (!word) return null;
    encoded.set(word, 32 * (i + 1));
  }
  return keccak(encoded);
}

/** The fields of EIP712Domain that `domain` sets, in the standard order (as viem picks them). */
function domainFields(domain: TypedDataDomain): { name: string; type: string }[] {
  const fields: { name: string; type: string }[] = [];
  if (typeof domain.name === "string") fields.push({ name: "name", type: "string" });
  if (typeof domain.version === "string") fields.push({ name: "version", type: "string" });
  if (domain.chainId !== undefined) fields.push({ name: "chainId", type: "uint256" });
  return fields;
}

function domainSeparator(domain: TypedDataDomain): Uint8Array | null {
  if (domain.verifyingContract !== undefined || domain.salt !== undefined) return null;
  const key = `domain:${JSON.stringify([domain.name, domain.version, domain.chainId?.toString()])}`;
  const known = memo.get(key);
  if (known) return known;
  const separator = simpleStructHash("EIP712Domain", domainFields(domain), domain as Record<string, unknown>);
  return separator && remember(key, separator);
}

/** The EIP-712 digest (what is signed), equal to viem's hashTypedData for every input. */
export function typedDataDigest(params: TypedDataParams): Hex {
  const fields = params.types[params.primaryType];
  const onlyOneType = Object.keys(params.types).every((t) => t === params.primaryType || t === "EIP712Domain");
  const separator = onlyOneType && fields ? domainSeparator(params.domain) : null;
  const struct = separator && fields ? simpleStructHash(params.primaryType, fields, params.message) : null;
  if (!separator || !struct) return hashTypedData(params as Parameters<typeof hashTypedData>[0]);
  const preimage = new Uint8Array(66);
  preimage.set([0x19, 0x01], 0);
  preimage.set(separator, 2);
  preimage.set(struct, 34);
  return keccak256(preimage);
}
