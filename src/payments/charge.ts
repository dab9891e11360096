// The actual charge of a usage-priced (`upto`) call (docs/ARCHITECTURE.md §3, §6; README
// "Pricing"): the tenant reports it in the `X-Claw-Charge` response header as a plain USD decimal
// ("0.0185"); a proxy's charge rule sets the same header (src/runtimes/proxy/charge-rule.ts). The
// dispatcher reads it here and strips it before delivering. Pure, never throws (fast-checked in
// test/unit/charge.test.ts). The decision, consistently:
//   ≤ the ceiling              → that amount (digits below the asset's precision are dropped,
//                                so a report is never rounded up against the payer)
//   above the ceiling          → the ceiling, and the tenant error `upto_charge_capped`
//   missing or not a number    → nothing (0), and the tenant error `upto_charge_missing` /
//                                `upto_charge_invalid`: the payer never pays for the tenant's bug
// The ceiling is the signed maximum, which the header check holds equal to the declared one.
import * as v from "valibot";

export const CHARGE_HEADER = "x-claw-charge";

/** Tenant errors a charge report can carry (recorded with the ledger row and logged). */
export type ChargeError = "upto_charge_capped" | "upto_charge_missing" | "upto_charge_invalid";

export interface Charge {
  /** What to settle, in the asset's atomic units: 0 ≤ atomic ≤ the ceiling. */
  atomic: bigint;
  error: ChargeError | null;
}

/** A USD amount as a tenant writes it: digits, an optional fraction of up to 18 digits, no sign or exponent. */
const ChargeSchema = v.pipe(v.string(), v.trim(), v.regex(/^\d{1,15}(\.\d{1,18})?$/));

/** A USD decimal string → atomic units at `decimals`, rounded down; null when it is not one. */
export function usdDecimalToAtomic(value: string, decimals: number): bigint | null {
  const parsed = v.safeParse(ChargeSchema, value);
  if (!parsed.success) return null;
  const [whole = "0", fraction = ""] = parsed.output.split(".");
  const kept = (fraction + "0".repeat(decimals)).slice(0, decimals);
  return BigInt(whole + kept);
}

/** The charge of one upto call from its reported header value (null: no header). */
export function decideCharge(reported: string | null, ceilingAtomic: bigint, decimals: number): Charge {
  if (reported === null) return { atomic: 0n, error: "upto_charge_missing" };
  const atomic = usdDecimalToAtomic(reported, decimals);
  if (atomic === null) return { atomic: 0n, error: "upto_charge_invalid" };
  if (atomic > ceilingAtomic) return { atomic: ceilingAtomic, error: "upto_charge_capped" };
  return { atomic, error: null };
}

/** The tenant's headers without the charge report (never delivered to the caller). */
export function withoutCharge(headers: Headers): Headers {
  if (!headers.has(CHARGE_HEADER)) return headers;
  const copy = new Headers(headers);
  copy.delete(CHARGE_HEADER);
  return copy;
}
