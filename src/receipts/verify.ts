// Verifying signed receipts and offers (x402 `offer-receipt`, spec §4.5 / §5.5, docs/ARCHITECTURE.md
// §6) against a published key list: parse the outside input (valibot: a receipt, an offer or a
// keys document from any server), recover the EIP-712 signer with the official verifier, and
// accept it only if that address is a published key (signer authorization, spec §4.5.1) and the
// payload says what the caller expects. Pure apart from the signature math; used by `claw call`
// and by the tests, never by the dispatcher's hot path.
import * as v from "valibot";
import {
  verifyOfferSignatureEIP712,
  verifyReceiptSignatureEIP712,
  type EIP712SignedOffer,
  type EIP712SignedReceipt,
  type OfferPayload,
  type ReceiptPayload,
} from "@x402/extensions/offer-receipt";

const Hex = v.pipe(v.string(), v.regex(/^0x[0-9a-fA-F]+$/, "must be 0x-prefixed hex"));
const Address = v.pipe(v.string(), v.regex(/^0x[0-9a-fA-F]{40}$/, "must be an address"));
const Seconds = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));
const Str = v.pipe(v.string(), v.maxLength(4096));

export const ReceiptSchema = v.object({
  format: v.literal("eip712"),
  payload: v.object({
    version: v.literal(1),
    network: Str,
    resourceUrl: Str,
    payer: Str,
    issuedAt: Seconds,
    transaction: Str,
  }),
  signature: Hex,
});

export const OfferSchema = v.object({
  format: v.literal("eip712"),
  acceptIndex: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  payload: v.object({
    version: v.literal(1),
    resourceUrl: Str,
    scheme: Str,
    network: Str,
    asset: Str,
    payTo: Str,
    amount: Str,
    validUntil: Seconds,
  }),
  signature: Hex,
});

export const KeysDocumentSchema = v.object({
  keys: v.pipe(
    v.array(v.object({ kid: Str, address: Address, status: v.picklist(["current", "previous"]) })),
    v.maxLength(64),
  ),
});
export type KeysDocument = v.InferOutput<typeof KeysDocumentSchema>;

/** Parses outside input as a signed EIP-712 receipt; a reason when it is not one. */
export function parseReceipt(input: unknown): { receipt: EIP712SignedReceipt } | { problem: string } {
  const parsed = v.safeParse(ReceiptSchema, input);
  if (!parsed.success) return { problem: `not a signed EIP-712 receipt: ${issueText(parsed.issues)}` };
  return { receipt: parsed.output };
}

export function parseKeysDocument(input: unknown): { doc: KeysDocument } | { problem: string } {
  const parsed = v.safeParse(KeysDocumentSchema, input);
  if (!parsed.success) return { problem: `not a receipt keys document: ${issueText(parsed.issues)}` };
  return { doc: parsed.output };
}

function issueText(issues: readonly v.BaseIssue<unknown>[]): string {
  const issue = issues[0];
  const path = issue?.path?.map((p) => String(p.key)).join(".");
  return `${path ? `${path}: ` : ""}${issue?.message ?? "invalid"}`;
}

/** What the payer expects a receipt to say (each given field must match exactly; addresses case-insensitively). */
export interface ReceiptExpectation {
  resourceUrl?: string;
  payer?: string;
  network?: string;
  transaction?: string;
  /** Latest acceptable issuedAt, seconds (clock skew allowance included by the caller). */
  notAfter?: number;
}

export type Verified<T> =
  | { ok: true; payload: T; signer: string; kid: string; status: "current" | "previous" }
  | { ok: false; reason: string };

/** Who signed (recovered) and whether that key is published. */
function authorize(signer: string, keys: KeysDocument): { kid: string; status: "current" | "previous" } | null {
  const key = keys.keys.find((k) => k.address.toLowerCase() === signer.toLowerCase());
  return key ? { kid: key.kid, status: key.status } : null;
}

export async function verifyReceipt(
  input: unknown,
  keys: KeysDocument,
  expect: ReceiptExpectation = {},
): Promise<Verified<ReceiptPayload>> {
  const parsed = parseReceipt(input);
  if ("problem" in parsed) return { ok: false, reason: parsed.problem };
  let signer: string;
  try {
    signer = (await verifyReceiptSignatureEIP712(parsed.receipt)).signer;
  } catch (err) {
    return { ok: false, reason: `the signature does not recover: ${(err as Error).message.split("\n")[0]}` };
  }
  const key = authorize(signer, keys);
  if (!key) return { ok: false, reason: `signed by ${signer.toLowerCase()}, which is not a published receipt key` };
  const p = parsed.receipt.payload;
  const mismatch = receiptMismatch(p, expect);
  if (mismatch) return { ok: false, reason: mismatch };
  return { ok: true, payload: p, signer: signer.toLowerCase(), ...key };
}

function receiptMismatch(p: ReceiptPayload, expect: ReceiptExpectation): string | null {
  const same = (a: string, b: string, address: boolean) => (address ? a.toLowerCase() === b.toLowerCase() : a === b);
  const fields: [keyof ReceiptExpectation & keyof ReceiptPayload, boolean][] = [
    ["resourceUrl", false],
    ["network", false],
    ["payer", true],
    ["transaction", true],
  ];
  for (const [name, address] of fields) {
    const want = expect[name];
    if (want !== undefined && !same(String(p[name]), String(want), address)) {
      return `the receipt's ${name} is ${JSON.stringify(p[name])}, not ${JSON.stringify(want)}`;
    }
  }
  if (expect.notAfter !== undefined && p.issuedAt > expect.notAfter) return "the receipt is issued in the future";
  return null;
}

/** Verifies a signed offer from a 402 the same way: published signer, and the terms that were paid. */
export async function verifyOffer(
  input: unknown,
  keys: KeysDocument,
  terms: Partial<Pick<OfferPayload, "resourceUrl" | "scheme" | "network" | "asset" | "payTo" | "amount">> = {},
): Promise<Verified<OfferPayload>> {
  const parsed = v.safeParse(OfferSchema, input);
  if (!parsed.success) return { ok: false, reason: `not a signed EIP-712 offer: ${issueText(parsed.issues)}` };
  let signer: string;
  try {
    signer = (await verifyOfferSignatureEIP712(parsed.output as EIP712SignedOffer)).signer;
  } catch (err) {
    return { ok: false, reason: `the signature does not recover: ${(err as Error).message.split("\n")[0]}` };
  }
  const key = authorize(signer, keys);
  if (!key) return { ok: false, reason: `signed by ${signer.toLowerCase()}, which is not a published receipt key` };
  for (const [name, want] of Object.entries(terms)) {
    const got = String(parsed.output.payload[name as keyof OfferPayload]);
    if (want !== undefined && got.toLowerCase() !== String(want).toLowerCase()) {
      return { ok: false, reason: `the offer's ${name} is ${JSON.stringify(got)}, not ${JSON.stringify(want)}` };
    }
  }
  return { ok: true, payload: parsed.output.payload, signer: signer.toLowerCase(), ...key };
}
