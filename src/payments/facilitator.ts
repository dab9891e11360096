// HTTP client for the x402 facilitator (POST /verify, POST /settle, GET /supported). Fail-closed:
// a timeout, a network error or an answer we cannot read is a FacilitatorUnavailable, never a pass.
// Responses are validated with valibot; `invalidMessage` / `errorMessage` are dropped here because
// they can carry RPC calldata (DESIGN §6) and must never reach a client or a log line.
import * as v from "valibot";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";

const VERIFY_TIMEOUT_MS = 10_000;
const SETTLE_TIMEOUT_MS = 30_000;
const SUPPORTED_TTL_MS = 5 * 60_000;

export class FacilitatorUnavailable extends Error {}
/** The settle request may or may not have reached the chain: the outcome is unknown. */
export class SettlementUnknown extends Error {}

const VerifySchema = v.object({
  isValid: v.boolean(),
  invalidReason: v.optional(v.string()),
  payer: v.optional(v.string()),
});
export type Verification = v.InferOutput<typeof VerifySchema>;

const SettleSchema = v.object({
  success: v.boolean(),
  errorReason: v.optional(v.string()),
  payer: v.optional(v.string()),
  transaction: v.string(),
  network: v.string(),
});
export type Settlement = v.InferOutput<typeof SettleSchema>;

const SupportedSchema = v.object({
  kinds: v.array(v.object({ x402Version: v.number(), scheme: v.string(), network: v.string() })),
});

// Cached values, never promises: a promise made in one request cannot be awaited in another.
let supportedCache: { url: string; kinds: Set<string>; expiresAt: number } | null = null;

export class FacilitatorClient {
  constructor(private readonly baseUrl: string) {}

  async verify(payload: PaymentPayload, requirements: PaymentRequirements): Promise<Verification> {
    const body = await this.post("/verify", payload, requirements, VERIFY_TIMEOUT_MS, FacilitatorUnavailable);
    return this.read(VerifySchema, body, FacilitatorUnavailable);
  }

  async settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<Settlement> {
    const body = await this.post("/settle", payload, requirements, SETTLE_TIMEOUT_MS, SettlementUnknown);
    return this.read(SettleSchema, body, SettlementUnknown);
  }

  /** Whether the facilitator settles `scheme` on `network` (x402 v2). Cached per isolate. */
  async supports(scheme: string, network: string): Promise<boolean> {
    const now = Date.now();
    if (!supportedCache || supportedCache.url !== this.baseUrl || supportedCache.expiresAt < now) {
      let json: unknown;
      try {
        const res = await fetch(`${this.baseUrl}/supported`, { signal: AbortSignal.timeout(VERIFY_TIMEOUT_MS) });
        json = res.ok ? await res.json() : null;
      } catch (err) {
        throw new FacilitatorUnavailable(`GET /supported failed: ${(err as Error).name}`);
      }
      const parsed = v.safeParse(SupportedSchema, json);
      if (!parsed.success) throw new FacilitatorUnavailable("GET /supported returned an unreadable answer");
      const kinds = new Set(parsed.output.kinds.filter((k) => k.x402Version === 2).map((k) => `${k.scheme}|${k.network}`));
      supportedCache = { url: this.baseUrl, kinds, expiresAt: now + SUPPORTED_TTL_MS };
    }
    return supportedCache.kinds.has(`${scheme}|${network}`);
  }

  private async post(path: string, paymentPayload: PaymentPayload, paymentRequirements: PaymentRequirements, timeoutMs: number, Failure: new (m: string) => Error): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ x402Version: 2, paymentPayload, paymentRequirements }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new Failure(`POST ${path} failed: ${(err as Error).name}`);
    }
    // A facilitator answers well-formed requests with 200 even for invalid payments; a 4xx
    // means it could not process the request at all, which is as good as no answer.
    if (!res.ok) throw new Failure(`POST ${path} answered ${res.status}`);
    try {
      return await res.json();
    } catch {
      throw new Failure(`POST ${path} returned non-JSON`);
    }
  }

  private read<S extends v.GenericSchema>(schema: S, body: unknown, Failure: new (m: string) => Error): v.InferOutput<S> {
    const parsed = v.safeParse(schema, body);
    if (!parsed.success) throw new Failure("facilitator answer has an unexpected shape");
    return parsed.output;
  }
}
