// Pure spend-cap math for the TenantMeter (docs/ARCHITECTURE.md §4): caps checked in atomic units
// (bigint arithmetic in shared/money.ts), and the X-Spend-* headers. No I/O, no clock reads.
//
// A cap is checked as settled + reserved + amount ≤ cap, where `reserved` is every payment
// admitted but not yet settled or released. Three caps, each optional:
//   daily          the tenant's revenue in the UTC day of the admit
//   monthly        the tenant's revenue in the UTC calendar month of the admit
//   perPayerDaily  what one payer spent with this tenant in the UTC day of the admit
//
// Headers (values are integers in the asset's atomic units; present only for caps that exist):
//   X-Spend-Daily-Limit / X-Spend-Daily-Remaining
//   X-Spend-Monthly-Limit / X-Spend-Monthly-Remaining
//   X-Spend-Payer-Daily-Limit / X-Spend-Payer-Daily-Remaining
//   X-Spend-Reset      seconds until the soonest capped window ends (like X-Usage-Reset)
// Remaining = cap − settled − reserved, after this call's reservation when it was admitted and
// before it on a refusal; never negative (a cap lowered below what is already spent shows 0).
import type { SpendCapsAtomic } from "./types.ts";
import { atomicOrZero, isAtomic, toAtomic } from "../shared/money.ts";

// ---------------------------------------------------------------------------------------------
// Caps

export type SpendCapName = "daily" | "monthly" | "perPayerDaily";

export interface SpendWindow {
  settled: string;
  reserved: string;
}

export interface SpendCapStatus {
  name: SpendCapName;
  limit: bigint;
  /** settled + reserved before this call. */
  used: bigint;
  /** Seconds until this window ends. */
  resetSeconds: number;
}

export interface SpendCheckInput {
  caps: SpendCapsAtomic | undefined;
  amount: string;
  daily: SpendWindow;
  monthly: SpendWindow;
  payerDaily: SpendWindow;
  /** Seconds until the current UTC day / month ends (for X-Spend-Reset). */
  dayResetSeconds: number;
  monthResetSeconds: number;
}

export interface SpendCheck {
  ok: boolean;
  /** Caps that this amount would exceed, in the order daily, monthly, perPayerDaily. */
  exceeded: SpendCapName[];
  /** Every configured cap, for the headers. */
  caps: SpendCapStatus[];
}

function used(w: SpendWindow): bigint {
  return atomicOrZero(w.settled) + atomicOrZero(w.reserved);
}

/** settled + reserved + amount ≤ cap for every configured cap. A cap that is not a valid amount is ignored. */
export function checkSpendCaps(input: SpendCheckInput): SpendCheck {
  const amount = toAtomic(input.amount);
  const caps: SpendCapStatus[] = [];
  const add = (name: SpendCapName, cap: string | undefined, w: SpendWindow, resetSeconds: number) => {
    if (cap === undefined || !isAtomic(cap)) return;
    caps.push({ name, limit: BigInt(cap), used: used(w), resetSeconds });
  };
  add("daily", input.caps?.daily, input.daily, input.dayResetSeconds);
  add("monthly", input.caps?.monthly, input.monthly, input.monthResetSeconds);
  add("perPayerDaily", input.caps?.perPayerDaily, input.payerDaily, input.dayResetSeconds);
  const exceeded = caps.filter((c) => c.used + amount > c.limit).map((c) => c.name);
  return { ok: exceeded.length === 0, exceeded, caps };
}

/** Remaining under a cap after `taken` more (0n on a refusal); never negative. */
export function remainingAtomic(cap: SpendCapStatus, taken: bigint): bigint {
  const r = cap.limit - cap.used - taken;
  return r > 0n ? r : 0n;
}

const HEADER_PREFIX: Record<SpendCapName, string> = {
  daily: "X-Spend-Daily",
  monthly: "X-Spend-Monthly",
  perPayerDaily: "X-Spend-Payer-Daily",
};

/** X-Spend-* headers; `taken` is the admitted amount (0n on a refusal). No caps → no headers. */
export function spendHeaders(caps: readonly SpendCapStatus[], taken: bigint): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const cap of caps) {
    headers[`${HEADER_PREFIX[cap.name]}-Limit`] = cap.limit.toString();
    headers[`${HEADER_PREFIX[cap.name]}-Remaining`] = remainingAtomic(cap, taken).toString();
  }
  if (caps.length > 0) headers["X-Spend-Reset"] = String(Math.min(...caps.map((c) => c.resetSeconds)));
  return headers;
}

const CAP_WORDS: Record<SpendCapName, string> = {
  daily: "daily spend cap",
  monthly: "monthly spend cap",
  perPayerDaily: "daily per-payer spend cap",
};

/** The refusal message, in atomic units (the meter does not know the asset's decimals). */
export function describeExceeded(check: SpendCheck, amount: string): string {
  const parts = check.caps
    .filter((c) => check.exceeded.includes(c.name))
    .map((c) => `${CAP_WORDS[c.name]} of ${c.limit} (${remainingAtomic(c, 0n)} left)`);
  return `This payment of ${amount} atomic units would exceed this API's ${parts.join(" and ")}. No payment was taken.`;
}
