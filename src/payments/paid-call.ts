// The paid call (x402 "authorization" flow, docs/ARCHITECTURE.md §3): challenge (with the bazaar
// listing of the operation, §11) → decode and match → facilitator /verify → TenantMeter.admit
// with the verified payer (exactly-once, spend caps) and the retry material → tenant → /settle
// only if the tenant answered < 400 → content with PAYMENT-RESPONSE,
// and TenantMeter.commit (settlement, stored response, ledger outbox) in waitUntil. Paid content
// is never sent before a successful settle, and every failure after admit releases the
// reservation so the payer is never charged for a failed call.
//
// Why the commit may run after the response: the admit stored the paymentPayload and
// requirements with the reservation, so if this isolate dies before the commit lands (or the
// commit RPC keeps failing), the meter's alarm finds the orphaned in-flight payment and asks the
// facilitator while it can still tell (nonce used → committed + ledger row; unused → released;
// see objects/payments.ts). Until the commit lands, a duplicate of the payment gets
// `409 payment_in_flight` (clients retry) and then the stored response.
import type { PaymentRequirements } from "@x402/core/types";
import type { TenantConfig } from "../config/tenant-config.ts";
import type { PaidAdmitRequest } from "../../objects/meter-types.ts";
import { ApiError } from "../http/errors.ts";
import { meterFor } from "../tenancy/meter-config.ts";
import { callerFromIp, callerLabel } from "../tenancy/caller.ts";
import { tenantRequest } from "../runtimes/runtime.ts";
import { selectRuntime } from "../runtimes/select.ts";
import { admitSyncingConfig, record, type CallContext } from "../gateway/tenant-call.ts";
import { decodePayment, mismatch, paymentHeader, paymentId } from "./payment-header.ts";
import { FacilitatorUnavailable, httpFacilitator, SettlementUnknown } from "../x402/facilitator.ts";
import { challenge, paymentResponseHeader, replay, toStored } from "./responses.ts";
import { challengeExtensions } from "../discovery/bazaar.ts";
import { signedByPayer } from "./signature.ts";
import { saysNonceUsed } from "../x402/nonce-rule.ts";
import { PhaseTimer } from "./timing.ts";

const COMMIT_ATTEMPTS = 3;
/** Between commit attempts: 100 ms, then 200 ms (well inside waitUntil's time after the response). */
const COMMIT_RETRY_DELAY_MS = 100;

export async function callPaidTenant(call: CallContext, tenant: TenantConfig, requirements: PaymentRequirements, request: Request, path: string): Promise<Response> {
  const { env, ctx, requestId } = call;
  // Every 402 also becomes a usage event (402→paid conversion; never ranked). The caller is the
  // verified payer once known, else the IP hash: an unverified `from` is not an identity.
  let verifiedPayer: string | null = null;
  const refuse = async (code: string, message: string, headers?: Record<string, string>): Promise<Response> => {
    const caller = verifiedPayer ?? (await callerFromIp(request, env.API_KEY_SECRET));
    record(call, tenant.slug, { caller, status: 402, outcome: lifecycleOf(code) });
    const extensions = challengeExtensions(tenant, request, path);
    return challenge(tenant, requirements, request, requestId, code, message, headers, extensions);
  };

  const header = paymentHeader(request);
  // Challenges never touch the facilitator and never count as calls.
  if (!header) return refuse("payment_required", `this API costs ${requirements.amount} atomic units of ${requirements.asset} per call; pay with x402`);

  const facilitatorUrl = env.FACILITATOR_URL;
  if (!facilitatorUrl) throw new ApiError(503, "payments_unavailable", "payments are not configured on this deployment (FACILITATOR_URL is unset)");

  const decoded = decodePayment(header);
  if ("code" in decoded) return refuse(decoded.code, decoded.message);
  const problem = mismatch(decoded, requirements);
  if (problem) return refuse(problem.code, problem.message);
  if (Number(decoded.authorization.validBefore) * 1000 <= call.startedAt) return refuse("payment_expired", "the payment authorization has expired (validBefore is in the past)");

  const timer = new PhaseTimer();
  const facilitator = httpFacilitator(facilitatorUrl);
  let verification;
  try {
    if (!(await facilitator.supports(requirements.scheme, requirements.network))) {
      throw new ApiError(503, "payments_unavailable", `the facilitator does not settle ${requirements.scheme} payments on ${requirements.network}`);
    }
    verification = await facilitator.verify(decoded.payload, requirements);
    timer.mark("verify");
  } catch (err) {
    if (err instanceof FacilitatorUnavailable) throw new ApiError(503, "facilitator_unavailable", "the payment facilitator is unavailable; nothing was charged, retry later", undefined, { "retry-after": "5" });
    throw err;
  }
  const id = paymentId(requirements, decoded);
  const meter = meterFor(env, tenant.slug);
  if (!verification.isValid) {
    // A retry of a payment we already settled: the chain has used the nonce, so /verify says no,
    // but the holder of the signed payment is owed its stored response (checked locally).
    if (saysNonceUsed(verification.invalidReason) && (await signedByPayer(decoded, requirements))) {
      const known = await meter.paymentStatus(id);
      if (known) return replayKnown(call, meter, id, decoded.authorization.from.toLowerCase(), requirements, refuse);
    }
    return refuse("payment_invalid", `the facilitator rejected the payment: ${verification.invalidReason ?? "invalid"}`);
  }

  // From here on the verified payer is the caller's identity.
  const payer = (verification.payer ?? decoded.authorization.from).toLowerCase();
  verifiedPayer = payer;
  const idempotencyKey = request.headers.get("idempotency-key")?.slice(0, 200);
  const admitRequest: PaidAdmitRequest = {
    caller: payer,
    now: call.startedAt,
    requestId,
    payment: {
      id,
      amountAtomic: requirements.amount,
      payer,
      payTo: requirements.payTo.toLowerCase(),
      network: requirements.network,
      asset: requirements.asset.toLowerCase(),
      validBefore: Number(decoded.authorization.validBefore),
    },
    ...(idempotencyKey ? { idempotencyKey } : {}),
    retry: { paymentPayload: decoded.payload, paymentRequirements: requirements },
  };
  const label = callerLabel(request);
  const admit = await admitSyncingConfig(call, meter, tenant, admitRequest);
  timer.mark("admit");
  if (!admit.ok) {
    switch (admit.code) {
      case "payment_replayed":
        record(call, tenant.slug, { caller: payer, status: admit.stored.status, outcome: "payment_replayed" });
        return replay(admit.stored, admit.transaction, requestId);
      case "spend_cap_exceeded":
        return refuse(admit.code, admit.message, admit.headers);
      case "rate_limited":
      case "quota_exceeded":
        record(call, tenant.slug, { caller: payer, ...(label ? { callerLabel: label } : {}), status: admit.status, outcome: admit.code });
        throw new ApiError(admit.status, admit.code, admit.message, undefined, admit.headers);
      default:
        throw new ApiError(admit.status, admit.code, admit.message, undefined, admit.headers);
    }
  }

  // Admitted: the amount is reserved. Any failure until commit must release it.
  const admitted = { payment: admitRequest.payment, reservedAt: admitRequest.now, requestId };
  let upstream: Response;
  let body: ArrayBuffer;
  try {
    upstream = await selectRuntime(env, ctx).fetch(tenant, tenantRequest(request, path, requestId));
    if (upstream.status >= 400) {
      await meter.release(id, { requestId });
      record(call, tenant.slug, { caller: payer, ...(label ? { callerLabel: label } : {}), status: upstream.status, outcome: "tenant_error" });
      const failed = new Response(upstream.body, upstream);
      for (const [name, value] of Object.entries(admit.headers)) failed.headers.set(name, value);
      return failed;
    }
    // Buffered, because nothing of it may leave before the settlement succeeded.
    body = await upstream.arrayBuffer();
    timer.mark("tenant");
  } catch (err) {
    ctx.waitUntil(meter.release(id, { requestId }));
    record(call, tenant.slug, { caller: payer, status: err instanceof ApiError ? err.status : 502, outcome: "tenant_error" });
    throw err;
  }

  let settlement;
  try {
    settlement = await facilitator.settle(decoded.payload, requirements);
    timer.mark("settle");
  } catch (err) {
    if (!(err instanceof SettlementUnknown)) throw err;
    // The transfer may be on its way: keep the reservation; the meter's alarm reconciles it and a
    // retry with the same payment then gets the stored outcome.
    await meter.markPending(id, { paymentPayload: decoded.payload, paymentRequirements: requirements }, admitted);
    throw new ApiError(503, "settlement_pending", "the settlement outcome is not known yet; retry the same payment in a few seconds", undefined, { "retry-after": "5" });
  }
  if (!settlement.success) {
    await meter.release(id, { requestId });
    return refuse("settlement_failed", `settlement failed: ${settlement.errorReason ?? "unknown reason"}`, {
      "payment-response": paymentResponseHeader({ ...settlement, success: false }),
    });
  }

  const response = new Response(body, upstream);
  for (const [name, value] of Object.entries(admit.headers)) response.headers.set(name, value);
  response.headers.set("payment-response", paymentResponseHeader({ ...settlement, payer }));
  response.headers.set("cache-control", "no-store");
  const stored = toStored(response.status, response.headers, body);
  // Off the critical path (see the file header): a lost commit is found by the meter's orphan check.
  ctx.waitUntil(commitWithRetry(meter, id, { transaction: settlement.transaction, network: settlement.network, payer }, stored, { requestId, settledAt: Date.now() }, admitted));
  response.headers.set("server-timing", timer.header());
  record(call, tenant.slug, { caller: payer, ...(label ? { callerLabel: label } : {}), status: response.status, outcome: "payment_settled" });
  return response;
}

/** Asks the meter for the stored outcome of a payment it knows (settled → replay, else 409). */
async function replayKnown(
  call: CallContext,
  meter: ReturnType<typeof meterFor>,
  id: string,
  payer: string,
  requirements: PaymentRequirements,
  refuse: (code: string, message: string) => Promise<Response>,
): Promise<Response> {
  const lookup: PaidAdmitRequest = {
    caller: payer,
    now: call.startedAt,
    requestId: call.requestId,
    payment: { id, amountAtomic: requirements.amount, payer, payTo: requirements.payTo.toLowerCase(), network: requirements.network, asset: requirements.asset.toLowerCase(), validBefore: 0 },
  };
  // A known id is answered before any limit is looked at, so this consumes nothing.
  const outcome = await meter.admitPaid(lookup);
  if (!outcome.ok && outcome.code === "payment_replayed") return replay(outcome.stored, outcome.transaction, call.requestId);
  if (!outcome.ok && outcome.code === "payment_in_flight") throw new ApiError(409, outcome.code, outcome.message);
  // Unexpected: the meter admitted a payment whose nonce is already used on chain. Undo it.
  if (outcome.ok) await meter.release(id, { requestId: call.requestId });
  return refuse("payment_invalid", "this payment authorization was already used");
}

async function commitWithRetry(meter: ReturnType<typeof meterFor>, ...args: Parameters<ReturnType<typeof meterFor>["commit"]>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await meter.commit(...args);
      if (result === "unknown_payment") console.error(`COMMIT REFUSED for settled payment ${args[0]} tx ${args[1].transaction}: the meter does not know it`);
      return;
    } catch (err) {
      // The money moved and the content went out. If every attempt fails, the meter's orphan
      // check commits it from the chain's answer (without the transaction hash): log loudly.
      if (attempt >= COMMIT_ATTEMPTS) {
        console.error(`COMMIT FAILED for settled payment ${args[0]} tx ${args[1].transaction}; left to the meter's orphan check`, err);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, COMMIT_RETRY_DELAY_MS * attempt));
    }
  }
}

/** The leaderboard lifecycle of a 402 answer, by its code. */
function lifecycleOf(code: string): "payment_challenged" | "payment_invalid" | "spend_cap_exceeded" | "settlement_failed" {
  if (code === "payment_required") return "payment_challenged";
  if (code === "spend_cap_exceeded" || code === "settlement_failed") return code;
  return "payment_invalid";
}
