// Local EIP-712 check of an EIP-3009 TransferWithAuthorization signature (viem). Used only for
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

export async function signedByPayer(decoded: DecodedPayment, requirements: PaymentRequirements): Promise<boolean> {
  const chainId = Number(requirements.network.split(":")[1]);
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
