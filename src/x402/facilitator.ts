// The one x402 facilitator client (POST /verify, POST /settle, GET /supported), used by the
// dispatcher's paid path and by the TenantMeter's reconciliation (docs/ARCHITECTURE.md §6).
// Fail-closed: a timeout, a network error, a non-200 or an answer we cannot read is a
// FacilitatorUnavailable (verify, supported) or a SettlementUnknown (settle), never a pass.
// Answers are read by one valibot parser each; `invalidMessage` / `errorMessage` are dropped here
// because they can carry RPC calldata and must never reach a client or a log line.
import * as v from "valibot";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { FacilitatorUnavailable, SettlementUnknown } from "./errors.ts";
import { facilitatorSupported } from "./supported.ts";

export { FacilitatorUnavailable, SettlementUnknown } from "./errors.ts";

const VERIFY_TIMEOUT_MS = 10_000;
const SETTLE_TIMEOUT_MS = 30_000;

const VerificationSchema = v.object({
  isValid: v.boolean(),
  invalidReason: v.optional(v.string()),
  payer: v.optional(v.string()),
});
export type Verification = v.InferOutput<typeof VerificationSchema>;

// `transaction` and `network` are required by the x402 spec, but a failed settlement from some
// facilitators omits them; reading them as "" keeps the answer (success: false) usable.
const SettlementSchema = v.object({
  success: v.boolean(),
  errorReason: v.optional(v.string()),
  payer: v.optional(v.string()),
  transaction: v.optional(v.string(), ""),
  network: v.optional(v.string(), ""),
});
export type Settlement = v.InferOutput<typeof SettlementSchema>;

/** The facilitator as both callers see it; tests substitute their own. */
export interface Facilitator {
  /** Throws FacilitatorUnavailable. */
  verify(paymentPayload: PaymentPayload, paymentRequirements: PaymentRequirements): Promise<Verification>;
  /** Throws SettlementUnknown. */
  settle(paymentPayload: PaymentPayload, paymentRequirements: PaymentRequirements): Promise<Settlement>;
  /** Whether it settles `scheme` on `network` (x402 v2). Throws FacilitatorUnavailable. */
  supports(scheme: string, network: string): Promise<boolean>;
}

/** A /verify answer, or null when it is not one. */
export function parseVerification(json: unknown): Verification | null {
  const parsed = v.safeParse(VerificationSchema, json);
  return parsed.success ? parsed.output : null;
}

/** A /settle answer, or null when it is not one. */
export function parseSettlement(json: unknown): Settlement | null {
  const parsed = v.safeParse(SettlementSchema, json);
  return parsed.success ? parsed.output : null;
}

/** The request body of /verify and /settle: the payload's own x402Version (v2 when absent). */
export function facilitatorBody(
  paymentPayload: unknown,
  paymentRequirements: unknown,
): { x402Version: number; paymentPayload: unknown; paymentRequirements: unknown } {
  const version =
    paymentPayload && typeof paymentPayload === "object"
      ? (paymentPayload as { x402Version?: unknown }).x402Version
      : undefined;
  return { x402Version: typeof version === "number" ? version : 2, paymentPayload, paymentRequirements };
}

/** The HTTP facilitator at `baseUrl`. */
export function httpFacilitator(baseUrl: string, fetchImpl: typeof fetch = fetch): Facilitator {
  const base = baseUrl.replace(/\/+$/, "");
  const post = async (
    path: string,
    payload: unknown,
    requirements: unknown,
    timeoutMs: number,
    Failure: new (m: string) => Error,
  ): Promise<unknown> => {
    let res: Response;
    try {
      res = await fetchImpl(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(facilitatorBody(payload, requirements)),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new Failure(`POST ${path} failed: ${(err as Error).name}`);
    }
    // A facilitator answers well-formed requests with 200 even for invalid payments; any other
    // status means it could not process the request at all, which is as good as no answer.
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Failure(`POST ${path} answered ${res.status}`);
    }
    try {
      return await res.json();
    } catch {
      throw new Failure(`POST ${path} returned non-JSON`);
    }
  };
  return {
    async verify(payload, requirements) {
      const answer = parseVerification(
        await post("/verify", payload, requirements, VERIFY_TIMEOUT_MS, FacilitatorUnavailable),
      );
      if (!answer) throw new FacilitatorUnavailable("facilitator /verify answer has an unexpected shape");
      return answer;
    },
    async settle(payload, requirements) {
      const answer = parseSettlement(
        await post("/settle", payload, requirements, SETTLE_TIMEOUT_MS, SettlementUnknown),
      );
      if (!answer) throw new SettlementUnknown("facilitator /settle answer has an unexpected shape");
      return answer;
    },
    supports: (scheme, network) => supports(base, fetchImpl, scheme, network),
  };
}

/** Whether /supported (cached per isolate, supported.ts) lists `scheme` on `network` for x402 v2. */
async function supports(base: string, fetchImpl: typeof fetch, scheme: string, network: string): Promise<boolean> {
  const { kinds } = await facilitatorSupported(base, fetchImpl);
  return kinds.some((k) => k.x402Version === 2 && k.scheme === scheme && k.network === network);
}
