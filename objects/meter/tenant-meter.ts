// TenantMeter: one SQLite-backed Durable Object per tenant, the exact source of truth for its
// free-call limits, its payments and its usage stats (docs/ARCHITECTURE.md §4). This class is the
// RPC surface, the alarm and the wiring only; each job is a synchronous module with its own SQL:
//   schema.ts          tables and migrations          config.ts        the pushed tenant config
//   admission.ts       buckets and quotas              paid-admit.ts    a paid call's admission
//   lease.ts           token leases to isolates (docs/ARCHITECTURE.md §14)
//   payment-book.ts    the reservation state machine   spend-book.ts    spend counters
//   reconciler.ts      held payments vs. facilitator   usage-stats.ts   calls, callers, latency
//   usage-aggregate.ts the dispatcher's usage batches, applied once by batch id
//   outbox.ts          the one outbox drainer: ledger-outbox.ts (D1), usage-outbox.ts (Leaderboard;
//                      aggregated batches coalesced, sealed before sent: usage-coalesce.ts)
//   housekeeping.ts    pruning on a schedule
// One alarm (objects/shared/alarm.ts, real clock) serves them all: each run delivers both
// outboxes, releases stale reservations, reconciles due payments, prunes when housekeeping is
// due, then re-arms at the earliest time any of them next has work.
import { DurableObject } from "cloudflare:workers";
import { configOf } from "../../src/config/env.ts";
import { type Facilitator, httpFacilitator } from "../../src/x402/facilitator.ts";
import { AlarmScheduler } from "../shared/alarm.ts";
import { Admission, requestNow } from "./admission.ts";
import { ConfigStore, parseMeterConfig } from "./config.ts";
import { Housekeeping } from "./housekeeping.ts";
import { LeaseBook } from "./lease.ts";
import { LedgerOutbox, ledgerChannel } from "./ledger-outbox.ts";
import { Outbox } from "./outbox.ts";
import { PaidAdmit } from "./paid-admit.ts";
import { PaymentBook } from "./payment-book.ts";
import { PaymentStore } from "./payment-store.ts";
import { type ChainReader, rpcChain } from "./chain.ts";
import { type ReconcileRun, Reconciler } from "./reconciler.ts";
import { migrate } from "./schema.ts";
import { forgetsOnRollback, SpendBook } from "./spend-book.ts";
import type {
  AdmitRequest,
  AdmitResult,
  AdmittedPayment,
  CommitResult,
  ConfigureResult,
  FlushResult,
  LeaseRequest,
  LeaseResult,
  LedgerEntryInput,
  MeterConfig,
  MeterStats,
  PaidAdmitRequest,
  PaymentRefusal,
  PaymentResolution,
  PaymentStatusInfo,
  ResolveResult,
  SettlementInfo,
  SettlementRetry,
  SpendInfo,
  StoredResponse,
  UsageRecord,
} from "./types.ts";
import { type ApplyUsageResult, UsageAggregates } from "./usage-aggregate.ts";
import { UsageCoalescer } from "./usage-coalesce.ts";
import { UsageOutbox, usageChannel } from "./usage-outbox.ts";
import type { UsageAggregateBatch } from "./usage-fold.ts";
import { UsageStats } from "./usage-stats.ts";

export class TenantMeter extends DurableObject<Env> {
  private readonly alarms: AlarmScheduler;
  private readonly config: ConfigStore;
  private readonly housekeeping: Housekeeping;
  private readonly outbox: Outbox;
  private readonly admission: Admission;
  private readonly leases: LeaseBook;
  private readonly usageStats: UsageStats;
  private readonly usageAggregates: UsageAggregates;
  private readonly spendBook: SpendBook;
  private readonly paidAdmit: PaidAdmit;
  private readonly book: PaymentBook;
  private readonly reconciler: Reconciler;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    const spend = new SpendBook(sql);
    this.spendBook = spend;
    const transactionSync = forgetsOnRollback(spend, (fn) => ctx.storage.transactionSync(fn));
    migrate(sql, transactionSync);
    this.alarms = new AlarmScheduler(ctx.storage);
    this.config = new ConfigStore(sql);
    const store = new PaymentStore(sql);
    this.housekeeping = new Housekeeping(this.alarms, [
      (now) => this.admission.prune(now),
      (now) => this.usageStats.prune(now),
      (now) => this.book.prune(now),
      (now) => spend.prune(now),
      (now) => this.usageAggregates.prune(now),
    ]);
    const coalescer = new UsageCoalescer(sql, transactionSync);
    this.outbox = new Outbox(sql, this.alarms, [ledgerChannel(env.DB), usageChannel(env, this.config, coalescer)]);
    const usage = new UsageOutbox(this.outbox, this.config);
    const ledger = new LedgerOutbox(this.outbox);
    this.usageStats = new UsageStats(sql, transactionSync, this.housekeeping, usage);
    this.usageAggregates = new UsageAggregates(sql, transactionSync, this.housekeeping, usage);
    const recordedAdmits = (start: number, end: number) => this.usageStats.admittedBetween(start, end);
    this.admission = new Admission(sql, this.config, this.housekeeping, recordedAdmits);
    this.leases = new LeaseBook(this.admission, this.config);
    const { config, alarms, housekeeping } = this;
    const parts = { transactionSync, store, spend, config, alarms, housekeeping };
    this.paidAdmit = new PaidAdmit({ ...parts, admission: this.admission });
    this.book = new PaymentBook({ ...parts, ledger, usage });
    this.reconciler = new Reconciler(store, this.book);
    void ctx.blockConcurrencyWhile(async () => {
      this.housekeeping.restore(await this.alarms.load());
    });
  }

  // ---------------------------------------------------------------------------------------------
  // configuration

  configure(input: MeterConfig): ConfigureResult {
    const next = parseMeterConfig(input);
    const prev = this.config.current;
    if (prev && next.version < prev.version) return { applied: false, version: prev.version };
    this.config.save(next);
    this.admission.applyConfig(prev, next, Date.now());
    return { applied: true, version: next.version };
  }

  // ---------------------------------------------------------------------------------------------
  // admission (hot path: synchronous, no await anywhere)

  // The RPC stub type only sees the LAST overload, and the free signature must stay as it was
  // (the dispatcher and tests type free admits as AdmitResult). Paid callers get the precise
  // union from `admitPaid`, which is the same code; `admit` with `payment` works at runtime too.
  admit(req: AdmitRequest | PaidAdmitRequest): AdmitResult | PaymentRefusal;
  admit(req: AdmitRequest): AdmitResult;
  admit(req: AdmitRequest | PaidAdmitRequest): AdmitResult | PaymentRefusal {
    if ("payment" in req && req.payment !== undefined) return this.paidAdmit.admit(req);
    return this.admission.admitFree(String(req.caller), requestNow(req.now));
  }

  /** A paid admit (order of checks: paid-admit.ts). Throws TypeError on a malformed request. */
  admitPaid(req: PaidAdmitRequest): AdmitResult | PaymentRefusal {
    return this.paidAdmit.admit(req);
  }

  /** Leased admission (lease.ts): credits returned tokens, grants tokens of one part or refuses. */
  lease(req: LeaseRequest): LeaseResult {
    return this.leases.lease(req);
  }

  // ---------------------------------------------------------------------------------------------
  // the payment book

  release(paymentId: string, options?: { includePending?: boolean; requestId?: string }): void {
    this.book.release(paymentId, options);
  }

  /**
   * A provisional admit (`provisional: true`) that /verify did not confirm: the record that request
   * admitted goes and the limits it took come back (provisional.ts). True when one was withdrawn.
   */
  withdrawPaid(paymentId: string, requestId: string): boolean {
    return this.paidAdmit.withdraw(paymentId, requestId);
  }

  /**
   * /settle's outcome is unknown: keep the reservation, the facilitator material and (optional)
   * the tenant's response, which the payer's retry gets once the settlement is known.
   */
  markPending(paymentId: string, retry: SettlementRetry, admitted?: AdmittedPayment, response?: StoredResponse): void {
    this.book.markPending(paymentId, retry, admitted, response);
  }

  commit(
    paymentId: string,
    settlement: SettlementInfo,
    response: StoredResponse,
    ledger: LedgerEntryInput,
    admitted?: AdmittedPayment,
  ): CommitResult {
    return this.book.commit(paymentId, settlement, response, ledger, admitted);
  }

  /** One payment record, or null when unknown (never admitted, released, or pruned). */
  paymentStatus(paymentId: string): PaymentStatusInfo | null {
    return this.book.status(paymentId);
  }

  /** Spend in the windows holding `now` (tenant day and month; one payer's day if given). */
  spend(now: number, payer?: string): SpendInfo {
    return this.spendBook.info(now, payer);
  }

  /** Releases in-flight reservations without retry material past validBefore + 60 s. */
  releaseStale(now: number): number {
    return this.book.releaseStale(now);
  }

  /**
   * Asks the facilitator about the payments that are due. `client` defaults to FACILITATOR_URL;
   * without one nothing is done.
   */
  reconcilePending(now: number = Date.now(), client?: Facilitator, chain?: ChainReader): Promise<ReconcileRun> {
    return this.reconciler.run(now, client ?? this.facilitator(), chain ?? this.chain());
  }

  /** Operator: decides held payments from the chain (CHAIN_RPC_URL); what it cannot tell stays held. */
  reconcileHeld(now: number = Date.now(), chain?: ChainReader): Promise<ReconcileRun> {
    return this.reconciler.runHeld(now, chain ?? this.chain());
  }

  /** Operator: held payments (settlement_pending, no more automatic attempts), oldest first. */
  heldPayments(limit = 100): PaymentStatusInfo[] {
    return this.book.held(limit);
  }

  /** Operator: resolves a settlement_pending payment after checking the chain. */
  resolvePayment(paymentId: string, resolution: PaymentResolution): ResolveResult {
    return this.book.resolve(paymentId, resolution);
  }

  private facilitator(): Facilitator | null {
    return this.env.FACILITATOR_URL ? httpFacilitator(this.env.FACILITATOR_URL) : null;
  }

  /** The token contract read over CHAIN_RPC_URL (src/config/env.ts), an optional var the operator sets. */
  private chain(): ChainReader | null {
    const url = configOf(this.env).chainRpcUrl;
    return url ? rpcChain(url) : null;
  }

  // ---------------------------------------------------------------------------------------------
  // outboxes

  /** Delivers waiting ledger rows to D1; never throws (a failure backs off and is in `error`). */
  async flushOutbox(): Promise<FlushResult> {
    const { sent, remaining, error } = await this.outbox.drain("ledger");
    return error === undefined ? { flushed: sent, remaining } : { flushed: sent, remaining, error };
  }

  /** Delivers waiting usage events to the Leaderboard (at least once; it dedupes). */
  async deliverUsageEvents(): Promise<{ delivered: number; remaining: number; error?: string }> {
    const { sent, remaining, error } = await this.outbox.drain("usage");
    return error === undefined ? { delivered: sent, remaining } : { delivered: sent, remaining, error };
  }

  // ---------------------------------------------------------------------------------------------
  // usage stats

  /** A dispatcher's aggregated usage batch (usage-fold.ts), applied once per batch id. */
  applyUsage(batch: UsageAggregateBatch): ApplyUsageResult {
    return this.usageAggregates.apply(batch, Date.now());
  }

  recordBatch(usages: UsageRecord[]): { recorded: number; rejected: number } {
    return this.usageStats.recordBatch(usages);
  }

  record(usage: UsageRecord): void {
    this.usageStats.record(usage);
  }

  stats(now: number): MeterStats {
    return this.usageStats.stats(now, this.config.current?.version ?? 0);
  }

  // ---------------------------------------------------------------------------------------------
  // housekeeping and the alarm

  /**
   * Deletes what carries no information at `now`; returns when it next has something to do, or
   * null. Public so tests and operators can run it with an explicit clock.
   */
  housekeep(now: number): number | null {
    return this.housekeeping.run(now);
  }

  override async alarm(): Promise<void> {
    this.alarms.fired();
    await this.outbox.drain("usage");
    await this.outbox.drain("ledger");
    this.book.releaseStale(Date.now());
    const chain = this.chain();
    await this.reconciler.run(Date.now(), this.facilitator(), chain);
    await this.reconciler.runHeld(Date.now(), chain);
    const now = Date.now();
    this.housekeeping.runIfDue(now);
    this.alarms.rearm(
      this.housekeeping.nextAt,
      this.outbox.dueAt("ledger", now),
      this.outbox.dueAt("usage", now),
      this.book.dueAt(now, Boolean(this.env.FACILITATOR_URL)),
    );
  }
}
