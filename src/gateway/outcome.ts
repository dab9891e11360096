// What a call result means for the tenant's stats and ranking (docs/ARCHITECTURE.md §7, §9), in
// one pure function. The rule: only failures that are the tenant's own (its 5xx answer, its
// crash, its timeout) are `tenant_error`, the only outcome that counts against its quality.
// Whatever the caller or the platform caused is recorded under an outcome that never does: a 4xx
// answer is `served`, a request the platform refused is `request_rejected`, our own failure is
// `platform_error`, limits and payment problems are refusals.
import { ApiError } from "../http/errors.ts";
import type { ErrorCode } from "../http/error-codes.ts";
import type { Outcome } from "../../objects/shared/outcomes.ts";
import type { ChallengeCode } from "../payments/responses.ts";
import type { CallResult } from "./result.ts";

export interface Recorded {
  outcome: Outcome;
  status: number;
  /** Whether the caller's self-description (x-agent-id) goes with the record. */
  labelled: boolean;
}

/** Failures the runtimes raise that are the tenant's own doing: its code crashed or ran too long. */
const TENANT_FAULTS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["tenant_worker_failure", "tenant_timeout"]);

/** The outcome of a runtime failure, by who caused it. */
export function failureOutcome(error: unknown): { outcome: Outcome; status: number } {
  if (!(error instanceof ApiError)) return { outcome: "platform_error", status: 500 };
  if (TENANT_FAULTS.has(error.code)) return { outcome: "tenant_error", status: error.status };
  if (error.code === "tenant_not_deployed" || error.status >= 500) {
    return { outcome: "platform_error", status: error.status };
  }
  return { outcome: "request_rejected", status: error.status };
}

/** A 402's lifecycle, by its code. */
export function challengeOutcome(code: ChallengeCode): Outcome {
  if (code === "payment_required") return "payment_challenged";
  if (code === "spend_cap_exceeded" || code === "settlement_failed") return code;
  return "payment_invalid";
}

/** What to record for a result, or null for results that are not recorded. */
export function recordedOf(result: CallResult): Recorded | null {
  switch (result.kind) {
    case "challenge":
      return { outcome: challengeOutcome(result.code), status: 402, labelled: false };
    case "refused": {
      const code = result.error.code;
      if (code === "rate_limited" || code === "quota_exceeded") {
        return { outcome: code, status: result.error.status, labelled: true };
      }
      // A body refused before any work: the caller's input, recorded like the runtime's refusals.
      if (code === "payload_too_large" || code === "invalid_content_length") {
        return { outcome: "request_rejected", status: result.error.status, labelled: true };
      }
      return null; // payments unavailable, in flight, key conflicts: not about this API
    }
    case "replayed":
      return { outcome: "payment_replayed", status: result.stored.status, labelled: false };
    case "pending":
      return null; // the meter emits the settled event if and when it commits the payment
    case "served": {
      const status = result.response.status;
      return { outcome: status >= 500 ? "tenant_error" : "served", status, labelled: true };
    }
    case "settled":
      return { outcome: "payment_settled", status: result.status, labelled: true };
    case "tenant_failed":
      return { ...failureOutcome(result.error), labelled: true };
  }
}
