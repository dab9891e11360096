// The work a paid call starts while the facilitator's /verify is out (docs/ARCHITECTURE.md §3
// "Overlapped phases"): the meter's admit, asked with the payer the payload claims (its
// authorization `from`) and marked provisional, and, once that admit locked the payment id, a
// read-only tenant's call with its body buffered. None of it is an answer: paid-flow.ts uses it
// only when verify confirms that payer, and otherwise discards it (the admit withdrawn, the
// tenant's output dropped unsent), so a payment verify rejects is never served nor charged and
// consumes nothing. Why a claimed `from` is safe to admit with: provisional.ts (objects/meter).
import type { TenantConfig } from "../config/tenant-config.ts";
import type { AdmitResult, PaidAdmitRequest, PaymentRefusal } from "../../objects/meter/types.ts";
import type { TenantMeterStub } from "../tenancy/meter-config.ts";
import { admitSyncingConfig } from "./admit.ts";
import type { CallContext } from "./context.ts";
import { nextTurn } from "./next-turn.ts";
import { runTenant, type TenantRun } from "./run-tenant.ts";

/** A promise's outcome as a value, so early work never leaves an unhandled rejection behind. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export function outcomeOf<T>(promise: Promise<T>): Promise<Outcome<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

export interface EarlyWork {
  /** The provisional admit (`admitRequest.provisional`), with the claimed payer as its caller. */
  admitRequest: PaidAdmitRequest;
  admit: Promise<Outcome<AdmitResult | PaymentRefusal>>;
  /** A read-only tenant's answer (body buffered) after an admitted admit, else null. */
  run: Promise<TenantRun | null>;
}

/**
 * A tenant whose call changes nothing, so running it before the payment is verified costs at
 * most a discarded answer: datasets (GET and HEAD only). Proxies are not: even a cached GET can
 * miss and reach the upstream, which may count or bill the tenant per call.
 */
export function isReadOnly(tenant: TenantConfig, method: string): boolean {
  return tenant.resource.type === "dataset" && (method === "GET" || method === "HEAD");
}

/**
 * One turn of the event loop, taken after /verify was asked and before the early work starts, so
 * the verify request is written out first. Without it the admit's storage transaction and the
 * tenant's run, which share the thread locally (and often in production: a dispatch namespace's
 * isolate), went first and /verify reached the facilitator ~6 ms later (BENCHMARKS.md); the
 * overlap stays whole, since both still run while verify is out.
 */
export function verifyRequestLeaves(): Promise<void> {
  return nextTurn();
}

/** Starts the provisional admit and, for a read-only tenant once it is admitted, the tenant call. */
export function startEarly(
  call: CallContext,
  meter: TenantMeterStub,
  tenant: TenantConfig,
  admitRequest: PaidAdmitRequest,
  tenantCall: { request: Request; path: string } | null,
): EarlyWork {
  const admit = outcomeOf(admitSyncingConfig(call, meter, tenant, admitRequest));
  const run = admit.then((admitted) => {
    if (!tenantCall || !admitted.ok || !admitted.value.ok) return null;
    return runBuffered(call, tenant, tenantCall.request, tenantCall.path);
  });
  return { admitRequest, admit, run };
}

/**
 * Verify did not confirm the claimed payer: withdraw the provisional admit if it admitted (the
 * lock, the reservation and the limits it took), and let a tenant call in progress finish
 * unread. Never throws: a withdrawal that fails is left to the meter's orphan check.
 */
export async function discardEarly(call: CallContext, meter: TenantMeterStub, early: EarlyWork): Promise<void> {
  call.ctx.waitUntil(early.run);
  const admitted = await early.admit;
  if (!admitted.ok || !admitted.value.ok) return;
  try {
    await meter.withdrawPaid(early.admitRequest.payment.id, early.admitRequest.requestId);
  } catch (err) {
    console.error(`withdrawing provisional admit ${early.admitRequest.payment.id} failed`, err);
  }
}

/** Null-body statuses cannot carry a (even empty) buffered body in a Response. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** The tenant call with its body read whole, so nothing of it can leave before settlement. */
async function runBuffered(
  call: CallContext,
  tenant: TenantConfig,
  request: Request,
  path: string,
): Promise<TenantRun> {
  const run = await runTenant(call, tenant, request, path);
  if (run.kind === "threw") return run;
  const { status, statusText, headers } = run.response;
  try {
    const body = await run.response.arrayBuffer();
    const response = new Response(NULL_BODY.has(status) ? null : body, { status, statusText, headers });
    return { kind: "answered", response };
  } catch (error) {
    return { kind: "threw", error };
  }
}
