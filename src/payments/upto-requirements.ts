// The `upto` offer's last part (docs/ARCHITECTURE.md §6; x402 schemes/upto/scheme_upto_evm.md): the
// buyer's Permit2 witness names the facilitator that may settle it, so the requirements carry the
// facilitator's address from its /supported (src/x402/supported.ts, cached per isolate). Without a
// facilitator that settles upto on the tenant's network the operation cannot be offered: 503.
import type { PaymentRequirements } from "@x402/core/types";
import { ApiError } from "../http/errors.ts";
import { FacilitatorUnavailable } from "../x402/facilitator.ts";
import { supportedKind } from "../x402/supported.ts";

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** `requirements` (scheme upto) with `extra.facilitatorAddress`, or the 503 that says why not. */
export async function withFacilitatorAddress(
  requirements: PaymentRequirements,
  facilitatorUrl: string | null | undefined,
): Promise<PaymentRequirements | ApiError> {
  const unavailable = (why: string) => new ApiError(503, "payments_unavailable", why);
  if (!facilitatorUrl) return unavailable("payments are not configured on this deployment (FACILITATOR_URL is unset)");
  let kind;
  try {
    kind = await supportedKind(facilitatorUrl, "upto", requirements.network);
  } catch (err) {
    if (!(err instanceof FacilitatorUnavailable)) throw err;
    const error = unavailable("the payment facilitator is unavailable; nothing was charged, retry later");
    return new ApiError(503, "facilitator_unavailable", error.message, undefined, { "retry-after": "5" });
  }
  const address = kind?.extra?.facilitatorAddress;
  if (typeof address !== "string" || !ADDRESS.test(address)) {
    return unavailable(`the facilitator does not settle usage-priced (upto) payments on ${requirements.network}`);
  }
  return { ...requirements, extra: { ...requirements.extra, facilitatorAddress: address } };
}
