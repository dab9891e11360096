// The one result type of a call to a tenant (docs/ARCHITECTURE.md §3). Each flow (free-flow.ts,
// paid-flow.ts) is a sequence of phases; each phase either hands the flow what the next phase
// needs or ends it with one of these results. call.ts records a result once (outcome.ts decides
// what it means for stats and ranking) and answers it once (respond.ts).
import type { ApiError } from "../http/errors.ts";
import type { ChallengeCode } from "../payments/responses.ts";
import type { StoredResponse } from "../../objects/meter/types.ts";
import type { DeliveredBody } from "../http/delivered-body.ts";

/** The meter's RateLimit-* / X-Usage-* headers of an admitted call. */
export type LimitHeaders = Record<string, string>;

export type CallResult =
  /** 402 with the x402 challenge body: no payment, or a payment refused before or instead of the tenant. */
  | { kind: "challenge"; code: ChallengeCode; message: string; headers?: Record<string, string>; payer: string | null }
  /** Refused with the error envelope before the tenant ran (limits, unavailable payments, a payment in flight). */
  | { kind: "refused"; error: ApiError; payer: string | null }
  /** A payment that was already settled: its stored response, again. */
  | { kind: "replayed"; stored: StoredResponse; transaction: string | null; payer: string }
  /** The tenant ran, the payment's settlement outcome is unknown: 503 settlement_pending, reservation held. */
  | { kind: "pending"; payer: string }
  /** The tenant answered, nothing is charged: every free call; a paid call it answered ≥ 400 (released). */
  | { kind: "served"; response: Response; limitHeaders: LimitHeaders; payer: string | null }
  /** A paid call settled: the buffered content with PAYMENT-RESPONSE (the meter's commit runs in waitUntil). */
  | {
      kind: "settled";
      status: number;
      statusText: string;
      headers: Headers;
      /** The buffered content: its bytes, or a stream that tells the flow when it was taken (http/delivered-body.ts). */
      body: DeliveredBody["body"];
      /** The Server-Timing value: verify, admit, tenant, settle. */
      timing: string;
      payer: string;
    }
  /** The tenant's runtime threw: its crash or timeout, or a failure of ours on the way (outcome.ts tells which). */
  | { kind: "tenant_failed"; error: unknown; limitHeaders: LimitHeaders; payer: string | null };
