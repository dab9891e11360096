// The reconciler (docs/ARCHITECTURE.md §4, §9.4): on the alarm, asks the facilitator about the
// payments that are due — settlement_pending ones, and in-flight ones with retry material whose
// orphan check is due — decides with reconcile-decision.ts and hands the decision to the payment
// book, which applies it only if the record did not change meanwhile. The facilitator is the one
// client of src/x402/facilitator.ts (FACILITATOR_URL); without one nothing is asked.
import type { Facilitator } from "../../src/x402/facilitator.ts";
import type { PaymentBook } from "./payment-book.ts";
import { readRetry } from "./payment-claim.ts";
import type { PaymentRow, PaymentStore } from "./payment-store.ts";
import { askSettle, askVerify, decideReconcile, type ReconcileAction } from "./reconcile-decision.ts";

/** Payments reconciled per run (each is one or two facilitator calls). */
const RECONCILE_BATCH = 10;

export interface ReconcileRun {
  attempted: number;
  actions: Record<string, number>;
}

export class Reconciler {
  /** Payments with a facilitator call in progress (an alarm and an RPC never ask twice at once). */
  private readonly inProgress = new Set<string>();

  constructor(
    private readonly store: PaymentStore,
    private readonly book: PaymentBook,
  ) {}

  async run(now: number, facilitator: Facilitator | null): Promise<ReconcileRun> {
    const actions: Record<string, number> = {};
    if (!facilitator) return { attempted: 0, actions };
    const due = this.store.dueForReconcile(now, RECONCILE_BATCH).filter((row) => !this.inProgress.has(row.id));
    await Promise.all(
      due.map(async (row) => {
        this.inProgress.add(row.id);
        try {
          const action = await this.decide(row, now, facilitator);
          this.book.applyReconcile(row, action);
          actions[action.action] = (actions[action.action] ?? 0) + 1;
        } finally {
          this.inProgress.delete(row.id);
        }
      }),
    );
    return { attempted: due.length, actions };
  }

  private async decide(row: PaymentRow, now: number, facilitator: Facilitator): Promise<ReconcileAction> {
    const material = readRetry(row.retry);
    if (!material) return { action: "hold", reason: "no readable retry material" };
    const phase = row.status === "in_flight" ? ("in_flight" as const) : ("settlement_pending" as const);
    const input = { phase, now, validBefore: row.valid_before, knownTransaction: row.tx };
    const verify = await askVerify(facilitator, material);
    const action = decideReconcile({ ...input, verify });
    if (action.action !== "settle") return action;
    const settle = await askSettle(facilitator, material);
    return decideReconcile({ ...input, verify, settle });
  }
}
