// Operator endpoints of a tenant's held payments (Authorization: Bearer $OPERATOR_TOKEN;
// docs/ARCHITECTURE.md §4): settlements whose outcome neither the facilitator nor the chain
// (CHAIN_RPC_URL) could decide stay reserved in the TenantMeter until an operator checks the chain.
//   GET  /__platform/tenants/:slug/held-payments?limit      → {items: PaymentStatusInfo[]} oldest first
//   POST /__platform/tenants/:slug/held-payments/:id/resolve  {settled: true, transaction?} | {settled: false}
//        → {result: committed | released | not_pending, payment} (not_pending: nothing changed)
// A committed payment is settled with the response kept for the payer (their retry gets it) and a
// ledger row with `transaction`; a released one frees its reservation (the payer was not charged).
import type { IRequest } from "itty-router";
import * as v from "valibot";
import { requireOperator } from "../control/auth.ts";
import type { PlatformContext } from "../control/context.ts";
import { slugProblem } from "../config/slug.ts";
import { readJson } from "../http/body.ts";
import { ApiError } from "../http/errors.ts";
import { json } from "../http/json.ts";
import { meterFor } from "../tenancy/meter-config.ts";
import { HELD_PAYMENTS_QUERY, parseQuery } from "./query.ts";

/** Longest payment id accepted in a path (`network:asset:payer:nonce` is ~170 characters). */
const MAX_PAYMENT_ID_LENGTH = 512;

const ResolutionSchema = v.variant("settled", [
  v.strictObject({
    settled: v.literal(true),
    transaction: v.optional(v.pipe(v.string(), v.regex(/^0x[0-9a-fA-F]{64}$/, "must be a 32-byte hex hash"))),
  }),
  v.strictObject({ settled: v.literal(false) }),
]);

function tenantSlug(request: IRequest): string {
  const slug = String(request.params.slug ?? "");
  const problem = slugProblem(slug);
  if (problem !== null) throw new ApiError(400, "invalid_slug", `slug: ${problem}`);
  return slug;
}

function paymentIdParam(request: IRequest): string {
  const raw = String(request.params.id ?? "");
  let id = raw;
  try {
    id = decodeURIComponent(raw);
  } catch {
    // Not percent-encoded text: taken as it is (an id has no '%' of its own).
  }
  if (id.length === 0 || id.length > MAX_PAYMENT_ID_LENGTH) {
    throw new ApiError(400, "invalid_parameter", `id: a payment id of 1-${MAX_PAYMENT_ID_LENGTH} characters`, {
      parameter: "id",
    });
  }
  return id.toLowerCase();
}

export async function listHeldPayments(request: IRequest, pc: PlatformContext): Promise<Response> {
  await requireOperator(request, pc.env);
  const slug = tenantSlug(request);
  const { limit } = parseQuery(new URL(request.url).searchParams, HELD_PAYMENTS_QUERY);
  const items = await meterFor(pc.env, slug).heldPayments(limit);
  return json({ items });
}

export async function resolveHeldPayment(request: IRequest, pc: PlatformContext): Promise<Response> {
  await requireOperator(request, pc.env);
  const slug = tenantSlug(request);
  const id = paymentIdParam(request);
  const input = await readJson(request, ResolutionSchema, "resolution");
  const resolution = input.settled
    ? { settled: true as const, ...(input.transaction ? { transaction: input.transaction.toLowerCase() } : {}) }
    : { settled: false as const };
  const meter = meterFor(pc.env, slug);
  const result = await meter.resolvePayment(id, resolution);
  return json({ result, payment: await meter.paymentStatus(id) });
}
