// Local EIP-712 check of an EIP-3009 TransferWithAuthorization signature, or of an upto payment's
// Permit2 PermitWitnessTransferFrom signature (viem). Used only for
// replays: once a payment settled, the facilitator's /verify rejects it (nonce used), yet the
// payer retrying the same signed payment is owed the stored response. Payment ids are public on
// chain, so the signature, not the id, is what proves the caller holds the payment.
import { verifyTypedData, type Address, type Hex } from "viem";
import type { PaymentRequirements } from "@x402/core/types";
import type { DecodedPayment } from "./payment-header.ts";

const TRANSFER_WITH_AUTHORIZATION = {
  TransferWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;

/** Canonical Permit2 (the same address on every chain) and the upto witness types, as @x402/evm signs them. */
const PERMIT2_ADDRESS = "0x000000000022D473030F116dDEE9F6B43aC78BA3";
const UPTO_WITNESS_TYPES = {
  PermitWitnessTransferFrom: [
    { name: "permitted", type: "TokenPermissions" },
    { name: "spender", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
    { name: "witness", type: "Witness" },
  ],
  TokenPermissions: [
    { name: "token", type: "address" },
    { name: "amount", type: "uint256" },
  ],
  Witness: [
    { name: "to", type: "address" },
    { name: "facilitator", type: "address" },
    { name: "validAfter", type: "uint256" },
  ],
} as const;

async function signedPermit2(decoded: Extract<DecodedPayment, { scheme: "upto" }>, chainId: number): Promise<boolean> {
  const p = decoded.permit2;
  try {
    return await verifyTypedData({
      address: p.from as Address,
      domain: { name: "Permit2", chainId, verifyingContract: PERMIT2_ADDRESS },
      types: UPTO_WITNESS_TYPES,
      primaryType: "PermitWitnessTransferFrom",
      message: {
        permitted: { token: p.permitted.token as Address, amount: BigInt(p.permitted.amount) },
        spender: p.spender as Address,
        nonce: BigInt(p.nonce),
        deadline: BigInt(p.deadline),
        witness: {
          to: p.witness.to as Address,
          facilitator: p.witness.facilitator as Address,
          validAfter: BigInt(p.witness.validAfter),
        },
      },
      signature: (decoded.payload.payload as { signature: Hex }).signature,
    });
  } catch {
    return false;
  }
}

export async function signedByPayer(decoded: DecodedPayment, requirements: PaymentRequirements): Promise<boolean> {
  const chainId = Number(requirements.network.split(":")[1]);
  if (decoded.scheme === "upto") return signedPermit2(decoded, chainId);
  const { from, to, value, validAfter, validBefore, nonce } = decoded.authorization;
  try {
    return await verifyTypedData({
      address: from as Address,
      domain: {
        name: String(requirements.extra.name),
        version: String(requirements.extra.version),
        chainId,
        verifyingContract: requirements.asset as Address,
      },
      types: TRANSFER_WITH_AUTHORIZATION,
      primaryType: "TransferWithAuthorization",
      message: {
        from: from as Address,
        to: to as Address,
        value: BigInt(value),
        validAfter: BigInt(validAfter),
        validBefore: BigInt(validBefore),
        nonce: nonce as Hex,
      },
      signature: (decoded.payload.payload as { signature: Hex }).signature,
    });
  } catch {
    return false;
  }
}
