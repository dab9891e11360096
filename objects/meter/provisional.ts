// Provisional paid admits (docs/ARCHITECTURE.md §3 "Overlapped phases", §4): the dispatcher asks
// for the admit while the facilitator's /verify is still out, with the payer the payload claims
// (its authorization `from`). That is only allowed when no limit of the tenant is keyed by the
// payer (no per-caller bucket, no per-payer spend cap), so an unverified `from` never draws on a
// payer's own limits; for such tenants the meter refuses with `payer_unverified` and the
// dispatcher admits after verify, as before. What a provisional admit took from the tenant-wide
// limits (a global token, quota counts) is remembered here, in memory, so that a withdrawal (the
// verify failed, or named another payer) gives it back and a rejected payment consumes nothing,
// as when the admit came after verify. Pure bookkeeping; the SQL is the admission's.
import type { LimitPlan } from "./admission.ts";
import type { MeterConfig } from "./types.ts";

/** Long enough for any /verify (10 s timeout, facilitator.ts) and the RPC round trips around it. */
const HOLD_MS = 60_000;

/** What one provisional admit took, so it can be given back exactly. */
export interface TakenLimits {
  requestId: string;
  /** The meter's clock when admitted (for HOLD_MS). */
  at: number;
  /** The admit's own `now`: its quota windows are those holding it. */
  now: number;
  plan: LimitPlan;
}

/** Whether a limit of this config is keyed by the payer, so admitting needs a verified one. */
export function needsVerifiedPayer(cfg: MeterConfig): boolean {
  return cfg.rateLimit.perCaller !== undefined || cfg.spendCapsAtomic?.perPayerDaily !== undefined;
}

/**
 * Provisional admits not yet withdrawn, by payment id. A confirmed admit (verify agreed) is never
 * reported back: its entry just ages out. Memory only: if the object restarts in between, a
 * withdrawal gives nothing back (the call counts as admitted: under-admission, never over).
 */
export class ProvisionalAdmits {
  private readonly held = new Map<string, TakenLimits>();

  remember(paymentId: string, taken: TakenLimits): void {
    this.prune(taken.at);
    this.held.delete(paymentId);
    this.held.set(paymentId, taken);
  }

  /** What that request's provisional admit of the payment took, once; null when none. */
  takeBack(paymentId: string, requestId: string): TakenLimits | null {
    const taken = this.held.get(paymentId);
    if (!taken || taken.requestId !== requestId) return null;
    this.held.delete(paymentId);
    return taken.at + HOLD_MS > Date.now() ? taken : null;
  }

  /** Entries are in insertion (= time) order: drop the expired ones at the front. */
  private prune(now: number): void {
    for (const [id, taken] of this.held) {
      if (taken.at + HOLD_MS > now) return;
      this.held.delete(id);
    }
  }
}
