// A call to a tenant (docs/ARCHITECTURE.md §3): the free or the paid flow runs its phases to a
// CallResult; the result is recorded once (the only place the gateway records usage) and
// answered once. Modules are visited in one direction: entry → tenancy → gateway (these phases,
// with src/payments for the x402 steps) → runtime → meter; nothing below imports the gateway.
import type { TenantConfig } from "../config/tenant-config.ts";
import { requestFingerprint } from "../../objects/meter/fingerprint.ts";
import type { UsageRecord } from "../../objects/meter/types.ts";
import { checkTenantBodySize } from "../http/body-limit.ts";
import { ApiError } from "../http/errors.ts";
import { requirementsFor } from "../payments/requirements.ts";
import { withFacilitatorAddress } from "../payments/upto-requirements.ts";
import { challengeOffer } from "../receipts/gateway.ts";
import { callerFromIp, callerLabel } from "../tenancy/caller.ts";
import type { CallContext } from "./context.ts";
import { freeFlow, unmeteredFreeCall } from "./free-flow.ts";
import { nextTurn } from "./next-turn.ts";
import { recordedOf } from "./outcome.ts";
import { paidFlow } from "./paid-flow.ts";
import { respond } from "./respond.ts";
import type { CallResult } from "./result.ts";
import { recordUsage } from "./usage-buffer.ts";
import { recordTelemetry } from "../telemetry/record.ts";

export type { CallContext } from "./context.ts";

export async function callTenant(
  call: CallContext,
  tenant: TenantConfig,
  request: Request,
  path: string,
): Promise<Response> {
  // Priced per operation: a free operation of a paid tenant takes the free flow (no 402).
  let requirements = requirementsFor(tenant, request.method, path);
  // A usage-priced operation's offer names the facilitator (its /supported, cached per isolate).
  let offerProblem: ApiError | null = null;
  if (requirements?.scheme === "upto") {
    const offer = await withFacilitatorAddress(requirements, call.config.facilitatorUrl);
    if (offer instanceof ApiError) offerProblem = offer;
    else requirements = offer;
  }
  if (!requirements && tenant.slug === call.config.benchUnmeteredSlug)
    return unmeteredFreeCall(call, tenant, request, path);
  // The caller of a free call is its IP hash; of a paid call, the verified payer once known.
  const ipCaller = requirements ? null : await callerFromIp(request, call.config.apiKeySecret);
  // An oversized or malformed body is refused before any metering, verification or tenant work.
  const bodyProblem = checkTenantBodySize(request);
  let result: CallResult;
  if (bodyProblem) result = { kind: "refused", error: bodyProblem, payer: null };
  else if (offerProblem) result = { kind: "refused", error: offerProblem, payer: null };
  else if (requirements) result = await paidFlow(call, tenant, requirements, request, path);
  else result = await freeFlow(call, tenant, request, path, ipCaller!);
  // Off the critical path: recording needs nothing the answer waits for (hashes for a challenge's
  // fingerprint or a caller's IP included), and usage is flushed in batches anyway. It starts a
  // turn later: its synchronous part (the usage fold, the telemetry point: ~0.2 ms of a paid
  // call in a profile, BENCHMARKS.md) ran before the answer left when it started here.
  call.ctx.waitUntil(nextTurn().then(() => record(call, tenant, request, path, result, ipCaller)));
  // A 402 carries a signed offer of its terms (x402 offer-receipt, src/receipts/).
  const offer = result.kind === "challenge" && requirements ? await challengeOffer(call, requirements, request) : null;
  return respond(result, { tenant, requirements, request, path, requestId: call.requestId, offer });
}

/** The one recording site. An unverified `from` is never an identity: without a payer, the IP hash. */
async function record(
  call: CallContext,
  tenant: TenantConfig,
  request: Request,
  path: string,
  result: CallResult,
  ip: string | null,
): Promise<void> {
  const recorded = recordedOf(result);
  if (!recorded) return;
  const caller = result.payer ?? ip ?? (await callerFromIp(request, call.config.apiKeySecret));
  const usage: UsageRecord = {
    requestId: call.requestId,
    ts: call.startedAt,
    caller,
    status: recorded.status,
    latencyMs: Date.now() - call.startedAt,
    outcome: recorded.outcome,
    transport: call.transport ?? "http",
  };
  const label = recorded.labelled ? callerLabel(request) : undefined;
  if (label !== undefined) usage.callerLabel = label;
  // The funnel counts challenged requests, not 402s (docs/ARCHITECTURE.md §7).
  if (recorded.outcome === "payment_challenged") {
    usage.fingerprint = await requestFingerprint(request.method, path, new URL(request.url).search);
  }
  recordUsage(call.env, call.ctx, tenant.slug, usage);
  recordTelemetry(call, tenant, { method: request.method, path }, usage); // docs/ARCHITECTURE.md §14
}
