// The one x402 facilitator client (POST /verify, POST /settle, GET /supported), used by the
// dispatcher's paid path and by the TenantMeter's reconciliation (docs/ARCHITECTURE.md §6).
// Fail-closed: a timeout, a network error, a non-200 or an answer we cannot read is a
// FacilitatorUnavailable (verify, supported) or a SettlementUnknown (settle), never a pass.
// Answers are read by one valibot parser each; `invalidMessage` / `errorMessage` are dropped here
// because they can carry RPC calldata and must never reach a client or a log line.
import * as v from "valibot";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";

const VERIFY_TIMEOUT_MS = 10_000;
const SETTLE_TIMEOUT_MS = 30_000;
const SUPPORTED_TTL_MS = 5 * 60_000;

/** The facilitator could not be asked, or gave no usable answer. Nothing happened. */
export class FacilitatorUnavailable extends Error {}
/** The settle request may or may not have reached the chain: the outcome is unknown. */
export class SettlementUnknown extends Error {}

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

const SupportedSchema = v.object({
  kinds: v.array(v.object({ x402Version: v.number(), scheme: v.string(), network: v.string() })),
});

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

// Cached values, never promises: a promise made in one request cannot be awaited in another.
let supportedCache: { url: string; kinds: Set<string>; expiresAt: number } | null = null;

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

async function supports(base: string, fetchImpl: typeof fetch, scheme: string, network: string): Promise<boolean> {
  const now = Date.now();
  if (!supportedCache || supportedCache.url !== base || supportedCache.expiresAt < now) {
    let json: unknown;
    try {
      const res = await fetchImpl(`${base}/supported`, { signal: AbortSignal.timeout(VERIFY_TIMEOUT_MS) });
      json = res.ok ? await res.json() : null;
    } catch (err) {
      throw new FacilitatorUnavailable(`GET /supported failed: ${(err as Error).name}`);
    }
    const parsed = v.safeParse(SupportedSchema, json);
    if (!parsed.success) throw new FacilitatorUnavailable("GET /supported returned an unreadable answer");
    const kinds = new Set(
      parsed.output.kinds.filter((k) => k.x402Version === 2).map((k) => `${k.scheme}|${k.network}`),
    );
    supportedCache = { url: base, kinds, expiresAt: now + SUPPORTED_TTL_MS };
  }
  return supportedCache.kinds.has(`${scheme}|${network}`);
}
