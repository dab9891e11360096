// The reconciler (docs/ARCHITECTURE.md §4, §9.4): on the alarm, asks the facilitator about the
// payments that are due — settlement_pending ones, and in-flight ones with retry material whose
// orphan check is due — decides with reconcile-decision.ts and hands the decision to the payment
// book, which applies it only if the record did not change meanwhile. The facilitator is the one
// client of src/x402/facilitator.ts (FACILITATOR_URL); without one nothing is asked. With a
// chain reader (chain.ts, CHAIN_RPC_URL) what the facilitator cannot tell — a payment that expired
// before anyone could ask, a used nonce without its transaction — is read from the token itself,
// and held payments are decided from it (`runHeld`).
import type { Facilitator } from "../../src/x402/facilitator.ts";
import { authorizationOf, type ChainReader, chainCanHelp, decideWithChain } from "./chain.ts";
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

  async run(now: number, facilitator: Facilitator | null, chain: ChainReader | null = null): Promise<ReconcileRun> {
    if (!facilitator) return { attempted: 0, actions: {} };
    const due = this.store.dueForReconcile(now, RECONCILE_BATCH);
    return this.each(due, async (row) => this.withChain(row, now, await this.decide(row, now, facilitator), chain));
  }

  /** Held payments decided from the chain; what the chain cannot tell stays held (operator). */
  async runHeld(now: number, chain: ChainReader | null): Promise<ReconcileRun> {
    if (!chain) return { attempted: 0, actions: {} };
    const held = this.store.held(RECONCILE_BATCH);
    const hold: ReconcileAction = { action: "hold", reason: "held" };
    return this.each(held, (row) => this.withChain(row, now, hold, chain), true);
  }

  private async each(
    rows: PaymentRow[],
    decide: (row: PaymentRow) => Promise<ReconcileAction>,
    onlyDecisions = false,
  ): Promise<ReconcileRun> {
    const actions: Record<string, number> = {};
    const mine = rows.filter((row) => !this.inProgress.has(row.id));
    await Promise.all(
      mine.map(async (row) => {
        this.inProgress.add(row.id);
        try {
          const action = await decide(row);
          // A held record asked again and still unknowable stays exactly as it is.
          if (!(onlyDecisions && action.action === "hold")) this.book.applyReconcile(row, action);
          actions[action.action] = (actions[action.action] ?? 0) + 1;
        } finally {
          this.inProgress.delete(row.id);
        }
      }),
    );
    return { attempted: mine.length, actions };
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

  private async withChain(
    row: PaymentRow,
    now: number,
    action: ReconcileAction,
    chain: ChainReader | null,
  ): Promise<ReconcileAction> {
    if (!chain || !chainCanHelp(action, now, row.valid_before)) return action;
    const auth = authorizationOf(row.id);
    if (!auth) return action;
    const answer = await chain.authorization(auth.asset, auth.authorizer, auth.nonce);
    return decideWithChain(action, answer, now, row.valid_before);
  }
}
