// Owns: the local facilitator's HTTP request plumbing: the Valibot schema of a /verify or
// /settle body (x402 v2 {x402Version, paymentPayload, paymentRequirements}), JSON body reading
// with a size cap, JSON responses, and the HttpError that handlers throw for 4xx answers.
// Two payload shapes are accepted, one per registered scheme (docs/ARCHITECTURE.md §6):
//   - `exact`: EIP-3009 `{signature, authorization}` (transferWithAuthorization on the token);
//   - `upto`: Permit2 `{signature, permit2Authorization}` (permitWitnessTransferFrom through
//     the x402 upto proxy; contracts/Permit2.sol, contracts/X402UptoPermit2Proxy.sol).
// A payload of the other scheme's shape is malformed input (400), not an invalid payment.
import type { IncomingMessage, ServerResponse } from "node:http";
import * as v from "valibot";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";

const HEX_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const AddressSchema = v.pipe(v.string(), v.regex(HEX_ADDRESS, "must be a 0x-prefixed 20-byte hex address"));
const UintStringSchema = v.pipe(
  v.string(),
  v.regex(/^(0|[1-9][0-9]{0,76})$/, "must be a base-10 unsigned integer string"),
);
const Bytes32Schema = v.pipe(v.string(), v.regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x-prefixed 32-byte hex"));
// Even-length hex, bounded: a 65-byte ECDSA signature, or an ERC-6492/1271 blob (bounded size).
const SignatureSchema = v.pipe(
  v.string(),
  v.regex(/^0x(?:[0-9a-fA-F]{2}){1,8192}$/, "must be 0x-prefixed even-length hex"),
);
// Permit2 nonces are random 256-bit numbers: up to 78 decimal digits, bounded by 2^256 - 1.
const Uint256StringSchema = v.pipe(
  v.string(),
  v.regex(/^(0|[1-9][0-9]{0,77})$/, "must be a base-10 unsigned integer string"),
  // Valibot runs the rest of a pipe after a failed regex, so only decimal strings reach BigInt.
  v.check((s) => !/^[0-9]+$/.test(s) || BigInt(s) < 2n ** 256n, "must fit in 256 bits"),
);
const NetworkSchema = v.pipe(
  v.string(),
  v.regex(/^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$/, "must be a CAIP-2 network id"),
);

const RequirementsSchema = v.looseObject({
  scheme: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  network: NetworkSchema,
  asset: AddressSchema,
  amount: UintStringSchema,
  payTo: AddressSchema,
  maxTimeoutSeconds: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(31 * 86_400)),
  extra: v.optional(v.record(v.string(), v.unknown()), {}),
});

const Eip3009PayloadSchema = v.looseObject({
  signature: SignatureSchema,
  authorization: v.looseObject({
    from: AddressSchema,
    to: AddressSchema,
    value: UintStringSchema,
    validAfter: UintStringSchema,
    validBefore: UintStringSchema,
    nonce: Bytes32Schema,
  }),
});

// What @x402/evm's upto client signs (Permit2 PermitWitnessTransferFrom with the upto witness).
const UptoPermit2PayloadSchema = v.looseObject({
  signature: SignatureSchema,
  permit2Authorization: v.looseObject({
    from: AddressSchema,
    permitted: v.looseObject({ token: AddressSchema, amount: UintStringSchema }),
    spender: AddressSchema,
    nonce: Uint256StringSchema,
    deadline: Uint256StringSchema,
    witness: v.looseObject({ to: AddressSchema, facilitator: AddressSchema, validAfter: Uint256StringSchema }),
  }),
});

const PaymentPayloadSchema = v.looseObject({
  x402Version: v.literal(2),
  resource: v.optional(v.looseObject({ url: v.string() })),
  accepted: RequirementsSchema,
  // EIP-3009 for `exact` (the Permit2 flavour of `exact` needs an exact proxy we do not
  // install), Permit2 for `upto`; which one goes with which scheme is checked below.
  payload: v.union([Eip3009PayloadSchema, UptoPermit2PayloadSchema]),
  extensions: v.optional(v.record(v.string(), v.unknown())),
});

export const FacilitatorRequestSchema = v.pipe(
  v.looseObject({
    x402Version: v.literal(2, "only x402Version 2 is supported"),
    paymentPayload: PaymentPayloadSchema,
    paymentRequirements: RequirementsSchema,
  }),
  v.check((b) => b.paymentPayload.x402Version === b.x402Version, "x402Version must equal paymentPayload.x402Version"),
  v.check(
    (b) => "permit2Authorization" in b.paymentPayload.payload === (b.paymentRequirements.scheme === "upto"),
    "an `upto` payload carries payload.permit2Authorization (Permit2); an `exact` one payload.authorization (EIP-3009)",
  ),
);

// ---------------------------------------------------------------- HTTP plumbing

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  readonly headers: Record<string, string> | undefined;
  constructor(status: number, code: string, message: string, details?: unknown, headers?: Record<string, string>) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body, (_k, val: unknown) => (typeof val === "bigint" ? val.toString() : val));
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > maxBytes) throw new HttpError(413, "body_too_large", `request body exceeds ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new HttpError(413, "body_too_large", `request body exceeds ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") throw new HttpError(400, "invalid_json", "request body is empty; expected JSON");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, "invalid_json", "request body is not valid JSON");
  }
}

export function parseRequest(body: unknown): {
  paymentPayload: PaymentPayload;
  paymentRequirements: PaymentRequirements;
} {
  const parsed = v.safeParse(FacilitatorRequestSchema, body);
  if (!parsed.success) {
    const details = parsed.issues.slice(0, 10).map((i) => ({ path: v.getDotPath(i) ?? "", message: i.message }));
    throw new HttpError(
      400,
      "invalid_request",
      "request body does not match {x402Version, paymentPayload, paymentRequirements}",
      details,
    );
  }
  return {
    paymentPayload: parsed.output.paymentPayload as unknown as PaymentPayload,
    paymentRequirements: parsed.output.paymentRequirements as unknown as PaymentRequirements,
  };
}
