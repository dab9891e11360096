// The settle step of a usage-priced (`upto`) call (docs/ARCHITECTURE.md §3, §6): the tenant's
// charge report (charge.ts) decides the amount; /settle is asked for exactly that (the offered
// requirements with `amount` = the actual charge, as the upto scheme wants), and a charge of 0
// settles nothing at all — no facilitator call, the Permit2 nonce stays unused — while the meter's
// settled record of the payment id keeps the same permit from buying a second free run.
import type { PaymentRequirements } from "@x402/core/types";
import type { TenantConfig } from "../config/tenant-config.ts";
import { assetFor } from "../config/assets.ts";
import type { UptoCharge } from "../../objects/meter/types.ts";
import type { Facilitator } from "../x402/facilitator.ts";
import { CHARGE_HEADER, decideCharge } from "./charge.ts";
import type { DecodedPayment } from "./payment-header.ts";
import { buyerSettleResponse } from "./responses.ts";
import { settlePayment, type SettleOutcome } from "./settle.ts";

/** An upto call's charge as reported in `headers`, with what /settle is asked for. */
export interface UptoSettle {
  charge: UptoCharge;
  /** The offered requirements with `amount` = the actual charge. */
  requirements: PaymentRequirements;
}

export function uptoSettleOf(tenant: TenantConfig, offered: PaymentRequirements, headers: Headers): UptoSettle {
  const decimals = assetFor(tenant.network, tenant.asset)?.decimals ?? 6;
  const decided = decideCharge(headers.get(CHARGE_HEADER), BigInt(offered.amount), decimals);
  const atomic = decided.atomic.toString();
  if (decided.error) {
    // The tenant's bug, never the payer's: logged with what the meter records (the ledger row's chargeError).
    const reported = (headers.get(CHARGE_HEADER) ?? "").slice(0, 40);
    console.warn(JSON.stringify({ tenantError: decided.error, tenant: tenant.slug, reported, chargedAtomic: atomic }));
  }
  return { charge: { atomic, error: decided.error }, requirements: { ...offered, amount: atomic } };
}

/** /settle for the actual charge; 0 → settled without asking anyone (nothing moves, no transaction). */
export async function settleUpto(
  facilitator: Facilitator,
  decoded: DecodedPayment,
  upto: UptoSettle,
  payer: string,
): Promise<SettleOutcome> {
  if (upto.charge.atomic !== "0") return settlePayment(facilitator, decoded, upto.requirements, payer);
  const settlement = { success: true, transaction: "", network: upto.requirements.network, payer };
  return { kind: "settled", settlement, response: buyerSettleResponse({ ...settlement, amount: "0" }) };
}
