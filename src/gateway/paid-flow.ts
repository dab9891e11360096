// The paid flow (x402 "authorization" flow, docs/ARCHITECTURE.md §3, §6), as phases:
//   present  no header → challenge; no facilitator → 503; header decoded, matched, not expired;
//            the x402 payment-identifier (payment-identifier.ts) read next to Idempotency-Key
//   verify   facilitator /verify → the verified payer (or a retry of a settled payment → replay);
//            while it is out, the admit and a read-only tenant's run start early (paid-overlap.ts)
//   admit    TenantMeter.admitPaid: exactly-once, bound to this request (method, path, query:
//            objects/meter/fingerprint.ts), spend caps, limits; reserves the amount. Asked during
//            verify with the claimed payer (provisional), used only if verify confirms that payer,
//            else withdrawn; for limits keyed by the payer, asked after verify
//   run      the tenant (a read-only one already ran, buffered, after the admit); ≥ 400 or a throw
//            releases the reservation (nothing charged)
//   settle   facilitator /settle only after a good answer; unknown → settlement_pending (held,
//            with the tenant's response, which the payer's retry gets once the settlement is known).
//            A usage-priced (upto) call settles the tenant's reported charge (payments/upto-charge.ts)
//   deliver  content with PAYMENT-RESPONSE (and its signed receipt, src/receipts/); TenantMeter.commit in
//            waitUntil, with retry
// Paid content is never sent before a successful settle, and every failure after admit releases
// the reservation so the payer is never charged for a failed call. Every phase ends the flow with
// a CallResult or hands the next phase what it needs; call.ts records and answers the result.
import type { PaymentRequirements } from "@x402/core/types";
import type { TenantConfig } from "../config/tenant-config.ts";
import type { AdmitResult, AdmittedPayment, PaidAdmitRequest, PaymentRefusal } from "../../objects/meter/types.ts";
import { requestFingerprint } from "../../objects/meter/fingerprint.ts";
import { deliveredBody } from "../http/delivered-body.ts";
import { ApiError } from "../http/errors.ts";
import { httpFacilitator, type Facilitator } from "../x402/facilitator.ts";
import { knownPaymentLookup, paidAdmitRequest } from "../payments/claim.ts";
import { commitWithRetry } from "../payments/commit.ts";
import { checkPayment, paymentHeader, paymentId, type DecodedPayment } from "../payments/payment-header.ts";
import { settledHeaders, toStored } from "../payments/responses.ts";
import { settlePayment } from "../payments/settle.ts";
import { withoutCharge } from "../payments/charge.ts";
import { settleUpto, uptoSettleOf } from "../payments/upto-charge.ts";
import { readPaymentIdentifier } from "../payments/payment-identifier.ts";
import { PhaseTimer } from "../payments/timing.ts";
import { verifyPayment, type Verification } from "../payments/verify.ts";
import { prepareReceipt, settledReceipt } from "../receipts/gateway.ts";
import { meterFor, type TenantMeterStub } from "../tenancy/meter-config.ts";
import { admitSyncingConfig } from "./admit.ts";
import type { CallContext } from "./context.ts";
import type { CallResult, LimitHeaders } from "./result.ts";
import { discardEarly, isReadOnly, outcomeOf, startEarly, verifyRequestLeaves } from "./paid-overlap.ts";
import { runTenant, type TenantRun } from "./run-tenant.ts";

/**
 * When a settled payment's commit starts (delivered-body.ts): 10 ms after its content was taken,
 * and at most 1 s after the response was made.
 */
const DELIVERY_WAIT = { capMs: 1_000, graceMs: 10 };

/** What the phases after `present` share. */
interface PaidCall {
  call: CallContext;
  tenant: TenantConfig;
  requirements: PaymentRequirements;
  decoded: DecodedPayment;
  facilitator: Facilitator;
  meter: TenantMeterStub;
  timer: PhaseTimer;
  /** The request this payment pays for (method, tenant path, query), as the meter binds it. */
  fingerprint: string;
}

/** An admitted payment: reserved in the meter until committed or released (see runAndSettle). */
interface Reserved {
  payer: string;
  admitted: AdmittedPayment;
  limitHeaders: LimitHeaders;
  /** The tenant's answer if it ran during verify (read-only tenants, paid-overlap.ts), else null. */
  early: Promise<TenantRun | null> | null;
}

export async function paidFlow(
  call: CallContext,
  tenant: TenantConfig,
  requirements: PaymentRequirements,
  request: Request,
  path: string,
): Promise<CallResult> {
  const header = paymentHeader(request);
  // Challenges never touch the facilitator and never count as calls.
  if (!header) {
    const price = `${requirements.amount} atomic units of ${requirements.asset}`;
    const message = `this API costs ${price} per call; pay with x402`;
    return { kind: "challenge", code: "payment_required", message, payer: null };
  }
  const facilitatorUrl = call.config.facilitatorUrl;
  if (!facilitatorUrl) {
    const message = "payments are not configured on this deployment (FACILITATOR_URL is unset)";
    return { kind: "refused", error: new ApiError(503, "payments_unavailable", message), payer: null };
  }
  const decoded = checkPayment(header, requirements, call.startedAt);
  if ("code" in decoded) return { kind: "challenge", code: decoded.code, message: decoded.message, payer: null };
  const identifier = readPaymentIdentifier(decoded.payload);
  if ("problem" in identifier) {
    return { kind: "challenge", code: "invalid_payment_header", message: identifier.problem, payer: null };
  }

  const timer = new PhaseTimer();
  const facilitator = httpFacilitator(facilitatorUrl);
  const meter = meterFor(call.env, tenant.slug);
  // /verify first: it is the longest phase. Meanwhile the provisional admit (with the claimed
  // payer) and, for a read-only tenant, the tenant call (docs/ARCHITECTURE.md §3 "Overlapped phases").
  const verifying = outcomeOf(verifyPayment(facilitator, decoded, requirements));
  const fingerprint = await requestFingerprint(request.method, path, new URL(request.url).search);
  const idempotencyKey = request.headers.get("idempotency-key");
  const { requestId, startedAt: now } = call;
  const keys = { idempotencyKey, paymentIdentifier: identifier.id, fingerprint };
  const claimed = decoded.authorization.from.toLowerCase();
  const claim = paidAdmitRequest(requirements, decoded, claimed, { now, requestId, ...keys });
  const provisional: PaidAdmitRequest = { ...claim, provisional: true };
  const tenantCall = isReadOnly(tenant, request.method) ? { request, path } : null;
  await verifyRequestLeaves();
  const early = startEarly(call, meter, tenant, provisional, tenantCall);
  const paid: PaidCall = { call, tenant, requirements, decoded, facilitator, meter, timer, fingerprint };
  const verified = await verifying;
  timer.mark("verify");
  if (!verified.ok || verified.value.kind !== "verified" || verified.value.payer !== claimed) {
    // Verify did not confirm the claimed payer: nothing started early counts or leaves.
    await discardEarly(call, meter, early);
    if (!verified.ok) throw verified.error;
    return unconfirmed(paid, verified.value, request, path, keys);
  }

  // From here on the verified payer (the claimed one, confirmed) is the caller's identity.
  const admitted = await early.admit;
  if (!admitted.ok) throw admitted.error;
  if (!admitted.value.ok && admitted.value.code === "payer_unverified") {
    return admitAfterVerify(paid, claimed, request, path, keys);
  }
  return reserved(paid, admitted.value, provisional, request, path, early.run);
}

type AdmitKeys = { idempotencyKey: string | null; paymentIdentifier: string | null; fingerprint: string };

/** Verify failed, found a settled payment's retry, or verified another payer than the claimed one. */
function unconfirmed(
  paid: PaidCall,
  verification: Verification,
  request: Request,
  path: string,
  keys: AdmitKeys,
): Promise<CallResult> | CallResult {
  switch (verification.kind) {
    case "unavailable":
      return { kind: "refused", error: verification.error, payer: null };
    case "already_used":
      return replayKnown(paid, verification.reason);
    case "invalid":
      return rejected(verification.reason);
    case "verified":
      return admitAfterVerify(paid, verification.payer, request, path, keys);
  }
}

/** The admit after verify, with the verified payer: limits keyed by the payer, or not the claimed payer. */
async function admitAfterVerify(
  paid: PaidCall,
  payer: string,
  request: Request,
  path: string,
  keys: AdmitKeys,
): Promise<CallResult> {
  const { call, tenant, requirements, decoded, meter } = paid;
  const { requestId, startedAt: now } = call;
  const admitRequest = paidAdmitRequest(requirements, decoded, payer, { now, requestId, ...keys });
  const admit = await admitSyncingConfig(call, meter, tenant, admitRequest);
  return reserved(paid, admit, admitRequest, request, path, null);
}

/** The admit's answer: a refusal ends the call; admitted, the amount is reserved for runAndSettle. */
function reserved(
  paid: PaidCall,
  admit: AdmitResult | PaymentRefusal,
  admitRequest: PaidAdmitRequest,
  request: Request,
  path: string,
  early: Promise<TenantRun | null> | null,
): Promise<CallResult> | CallResult {
  paid.timer.mark("admit");
  const payer = admitRequest.caller;
  if (!admit.ok) return admitRefused(admit, payer);
  const { payment, now: reservedAt, requestId, fingerprint } = admitRequest;
  const admitted: AdmittedPayment = { payment, reservedAt, requestId, fingerprint: fingerprint! };
  return runAndSettle(paid, { payer, limitHeaders: admit.headers, admitted, early }, request, path);
}

function rejected(reason: string): CallResult {
  const message = `the facilitator rejected the payment: ${reason}`;
  return { kind: "challenge", code: "payment_invalid", message, payer: null };
}

function admitRefused(admit: Exclude<AdmitResult | PaymentRefusal, { ok: true }>, payer: string): CallResult {
  const { message, headers } = admit;
  // Only a provisional admit is answered so, and paidFlow admits again after verify instead.
  if (admit.code === "payer_unverified") throw new Error("payer_unverified answered to a verified admit");
  if (admit.code === "payment_replayed") {
    return { kind: "replayed", stored: admit.stored, transaction: admit.transaction, payer };
  }
  if (admit.code === "spend_cap_exceeded") return { kind: "challenge", code: admit.code, message, headers, payer };
  return { kind: "refused", error: new ApiError(admit.status, admit.code, message, undefined, headers), payer };
}

/**
 * A payment the chain already used, presented by its signer: a retry of a payment the meter
 * settled (its stored response) or is still settling (409, retry). Unknown to the meter: refused.
 */
async function replayKnown(paid: PaidCall, reason: string): Promise<CallResult> {
  const { call, meter, requirements, decoded } = paid;
  const id = paymentId(requirements, decoded);
  if (!(await meter.paymentStatus(id))) return rejected(reason);
  const lookup = knownPaymentLookup(requirements, decoded, call.startedAt, call.requestId, paid.fingerprint);
  const outcome = await meter.admitPaid(lookup);
  const payer = lookup.caller;
  if (!outcome.ok && outcome.code === "payment_replayed") {
    return { kind: "replayed", stored: outcome.stored, transaction: outcome.transaction, payer };
  }
  if (!outcome.ok && (outcome.code === "payment_in_flight" || outcome.code === "payment_request_mismatch")) {
    const error = new ApiError(409, outcome.code, outcome.message, undefined, outcome.headers);
    return { kind: "refused", error, payer };
  }
  // Unexpected: the meter admitted a payment whose nonce is already used on chain. Undo it.
  if (outcome.ok) await meter.release(id, { requestId: call.requestId });
  const message = "this payment authorization was already used";
  return { kind: "challenge", code: "payment_invalid", message, payer: null };
}

/** run → settle → deliver. The amount is reserved: every way out but `settled` and `pending` releases it. */
async function runAndSettle(paid: PaidCall, reserved: Reserved, request: Request, path: string): Promise<CallResult> {
  const { call, meter, timer } = paid;
  const { payer, limitHeaders, admitted } = reserved;
  const id = admitted.payment.id;
  const release = () => meter.release(id, { requestId: call.requestId });
  const run = (await reserved.early) ?? (await runTenant(call, paid.tenant, request, path));
  if (run.kind === "threw") {
    call.ctx.waitUntil(release());
    return { kind: "tenant_failed", error: run.error, limitHeaders, payer };
  }
  const upstream = run.response;
  if (upstream.status >= 400) {
    await release();
    return { kind: "served", response: upstream, limitHeaders, payer };
  }
  let body: ArrayBuffer;
  try {
    // Buffered, because nothing of it may leave before the settlement succeeded.
    body = await upstream.arrayBuffer();
  } catch (error) {
    call.ctx.waitUntil(release());
    return { kind: "tenant_failed", error, limitHeaders, payer };
  }
  timer.mark("tenant");

  // The charge report is read (upto) and never delivered, whatever the scheme.
  const { tenant, requirements } = paid;
  const upto = requirements.scheme === "upto" ? uptoSettleOf(tenant, requirements, upstream.headers) : null;
  const tenantHeaders = withoutCharge(upstream.headers);
  prepareReceipt(call);
  const settled = upto
    ? await settleUpto(paid.facilitator, paid.decoded, upto, payer)
    : await settlePayment(paid.facilitator, paid.decoded, paid.requirements, payer);
  if (settled.kind === "unknown") {
    // The transfer may be on its way: keep the reservation and the tenant's response (what the
    // payer paid for); the meter's alarm reconciles it and a retry with the same payment then
    // gets that response with the transaction, once the settlement is known.
    const retry = {
      paymentPayload: paid.decoded.payload,
      paymentRequirements: upto?.requirements ?? paid.requirements,
      transaction: settled.transaction,
      ...(upto ? { charge: upto.charge } : {}),
    };
    const pendingHeaders = settledHeaders(tenantHeaders, limitHeaders, null);
    await meter.markPending(id, retry, admitted, toStored(upstream.status, pendingHeaders, body));
    return { kind: "pending", payer };
  }
  timer.mark("settle");
  if (settled.kind === "failed") {
    await release();
    const headers = { "payment-response": settled.paymentResponse };
    const message = `settlement failed: ${settled.reason}`;
    return { kind: "challenge", code: "settlement_failed", message, headers, payer };
  }
  const { transaction, network } = settled.settlement;
  // The signed receipt (src/receipts/), in PAYMENT-RESPONSE, the stored response and the ledger row.
  const settledAs = { payer, network, transaction };
  const paidWith = { payload: paid.decoded.payload, requirements: upto?.requirements ?? paid.requirements };
  const signed = await settledReceipt(call, request, settled.response, settledAs, paidWith);
  const headers = settledHeaders(tenantHeaders, limitHeaders, signed.paymentResponse);
  const stored = toStored(upstream.status, headers, body);
  // Off the critical path (commit.ts says why that is safe).
  const ledger = { requestId: call.requestId, settledAt: Date.now(), receipt: signed.receipt };
  const settlement = { transaction, network, payer, ...(upto ? { charge: upto.charge } : {}) };
  const commit = () => commitWithRetry(meter, id, settlement, stored, ledger, admitted);
  // A 0 charge moved nothing on chain (the permit stays valid), so only the meter's settled record
  // keeps it from buying a second free run: that record is written before the content goes out.
  // Any other commit starts once the content was taken (delivered-body.ts says why).
  const content = deliveredBody(body, DELIVERY_WAIT);
  if (upto?.charge.atomic === "0") await commit();
  else call.ctx.waitUntil(content.delivered.then(commit));
  const { status, statusText } = upstream;
  return { kind: "settled", status, statusText, headers, body: content.body, timing: timer.header(), payer };
}
