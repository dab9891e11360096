// The one mapping from a call result to the HTTP answer (docs/ARCHITECTURE.md §3, §8): x402
// challenges (their one `extensions` object: Bazaar + payment-identifier + offer), error envelopes, replays,
// the tenant's own answer with the meter's limit headers, and settled content with
// PAYMENT-RESPONSE and Server-Timing.
import type { PaymentRequirements } from "@x402/core/types";
import type { TenantConfig } from "../config/tenant-config.ts";
import { ApiError, errorResponse, withHeaders } from "../http/errors.ts";
import { challengeExtensions } from "../discovery/bazaar.ts";
import { paymentIdentifierDeclaration } from "../payments/payment-identifier.ts";
import { challenge, replay } from "../payments/responses.ts";
import { CHARGE_HEADER } from "../payments/charge.ts";
import type { CallResult, LimitHeaders } from "./result.ts";

export interface Answering {
  tenant: TenantConfig;
  /** Null for a free tenant (which never produces challenges). */
  requirements: PaymentRequirements | null;
  request: Request;
  /** The tenant-relative path: the operation a 402's Bazaar listing describes. */
  path: string;
  requestId: string;
  /** A challenge's signed offer (`{"offer-receipt": …}`, src/receipts/), when receipts are configured. */
  offer?: Record<string, unknown> | null;
}

/** One `extensions` object: the Bazaar listing of this operation (if any), payment-identifier, the offer. */
function challengeExtensionsOf(a: Answering): Record<string, unknown> {
  return { ...challengeExtensions(a.tenant, a.request, a.path), ...paymentIdentifierDeclaration(), ...a.offer };
}

function withLimits(response: Response, limitHeaders: LimitHeaders): Response {
  const out = new Response(response.body, response);
  out.headers.delete(CHARGE_HEADER); // a tenant's charge report is never delivered (payments/charge.ts)
  for (const [name, value] of Object.entries(limitHeaders)) out.headers.set(name, value);
  return out;
}

export function respond(result: CallResult, a: Answering): Response {
  switch (result.kind) {
    case "challenge":
      if (!a.requirements) throw new Error(`challenge ${result.code} for the free tenant ${a.tenant.slug}`);
      return challenge(
        a.tenant,
        a.requirements,
        a.request,
        a.requestId,
        result.code,
        result.message,
        result.headers,
        () => challengeExtensionsOf(a),
        a.offer ?? null,
      );
    case "refused":
      return errorResponse(result.error, a.requestId);
    case "replayed": {
      const network = a.requirements?.network ?? a.tenant.network;
      return replay(result.stored, { transaction: result.transaction, network, payer: result.payer }, a.requestId);
    }
    case "pending": {
      const message = "the settlement outcome is not known yet; retry the same payment in a few seconds";
      const error = new ApiError(503, "settlement_pending", message, undefined, { "retry-after": "5" });
      return errorResponse(error, a.requestId);
    }
    case "served":
      return withLimits(result.response, result.limitHeaders);
    case "settled": {
      const { body, status, statusText, headers } = result;
      const response = new Response(body, { status, statusText, headers });
      response.headers.set("server-timing", result.timing);
      return response;
    }
    case "tenant_failed":
      // Not ours to describe: anything but an ApiError goes to the entry's 500 (and its log).
      if (!(result.error instanceof ApiError)) throw result.error;
      return errorResponse(withHeaders(result.error, result.limitHeaders), a.requestId);
  }
}
