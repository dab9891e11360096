// Usage is aggregated per isolate and sent to the tenant's meter as one batch per interval
// (docs/ARCHITECTURE.md §4, §14): records fold in memory into rows of like calls
// (objects/meter/usage-fold.ts), so a batch costs the meter per row, not per call. Every batch
// gets an id unique to this isolate (a random isolate id + a sequence number) and the meter
// applies an id once, so a batch resent after a failed or lost RPC is never counted twice; a
// failed batch is kept as it was (same id, same rows) and sent again first.
//
// One flush per tenant is scheduled at a time, in the waitUntil of the call that found none
// scheduled, so a record waits at most one interval (flush-interval.ts: 50 ms quiet, up to 1 s
// hot) and never depends on later traffic; records that arrive while a flush is sending are
// sealed and sent by the same flush. A flush whose request context was cut (it never finished)
// is replaced after STALE_FLUSH_MS; should both run, each removes only the batch it sent, and a
// batch sent twice counts once. Each flush makes its stub in its own request, because workerd
// forbids I/O objects from one request being used in another.
import type { UsageAggregateBatch, UsageAggregateRow, UsageFold } from "../../objects/meter/usage-fold.ts";
import { addRow, MAX_FOLD_ROWS, rowOf } from "../../objects/meter/usage-fold.ts";
import type { UsageRecord } from "../../objects/meter/types.ts";
import { meterFor } from "../tenancy/meter-config.ts";
import { MIN_FLUSH_MS, nextFlushInterval } from "./flush-interval.ts";

/** Sealed batches kept per tenant while its meter is unreachable (then new records are dropped). */
const MAX_PENDING_BATCHES = 100;
const STALE_FLUSH_MS = 10_000;

interface TenantBuffer {
  open: UsageFold;
  /** Calls folded into `open` so far (what the adaptive interval counts). */
  openCalls: number;
  /** Sealed batches in order, sent first; a failed one stays here with its id. */
  pending: UsageAggregateBatch[];
  /** The flush scheduled now (its schedule time), null when none is: each flush owns its token. */
  flush: { at: number } | null;
  intervalMs: number;
}

const buffers = new Map<string, TenantBuffer>();
let isolateId: string | null = null;
let sequence = 0;

/** Random values are not allowed in a Worker's global scope: the id is made on first use. */
function nextBatchId(): string {
  isolateId ??= crypto.randomUUID();
  sequence += 1;
  return `${isolateId}:${sequence}`;
}

function seal(buffer: TenantBuffer): void {
  if (buffer.open.size === 0) return;
  buffer.pending.push({ batchId: nextBatchId(), rows: [...buffer.open.values()] });
  buffer.open = new Map();
  buffer.openCalls = 0;
}

function bufferOf(slug: string): TenantBuffer {
  let buffer = buffers.get(slug);
  if (!buffer) {
    buffer = { open: new Map(), openCalls: 0, pending: [], flush: null, intervalMs: MIN_FLUSH_MS };
    buffers.set(slug, buffer);
  }
  return buffer;
}

/**
 * Folds a row into the open batch; a full batch is sealed first. A meter that cannot keep up must
 * not grow memory without bound: with MAX_PENDING_BATCHES waiting, the row is dropped (false), and
 * the caller still schedules a flush so the pending batches are retried.
 */
function fold(buffer: TenantBuffer, row: UsageAggregateRow): boolean {
  if (addRow(buffer.open, row, MAX_FOLD_ROWS)) return true;
  if (buffer.pending.length >= MAX_PENDING_BATCHES) return false;
  seal(buffer);
  return addRow(buffer.open, row, MAX_FOLD_ROWS);
}

export function recordUsage(env: Env, ctx: ExecutionContext, slug: string, usage: UsageRecord): void {
  const buffer = bufferOf(slug);
  if (fold(buffer, rowOf(usage))) buffer.openCalls += 1;
  const now = Date.now();
  if (buffer.flush !== null && now - buffer.flush.at < STALE_FLUSH_MS) return;
  const token = { at: now };
  buffer.flush = token;
  ctx.waitUntil(flushAfter(env, slug, buffer, token));
}

async function flushAfter(env: Env, slug: string, buffer: TenantBuffer, token: { at: number }): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, buffer.intervalMs));
  const calls = buffer.openCalls;
  // Called in the same synchronous step as the seal that found nothing left (or the failure), so
  // a record folded after it always schedules a flush of its own. A flush replaced as stale
  // leaves its successor's schedule alone.
  const release = () => {
    if (buffer.flush !== token) return;
    buffer.flush = null;
    buffer.intervalMs = nextFlushInterval(buffer.intervalMs, calls);
  };
  try {
    await sendPending(env, slug, buffer, release);
  } finally {
    release();
  }
}

/** Seals what is open and sends every pending batch in order, until none is left or one fails. */
async function sendPending(env: Env, slug: string, buffer: TenantBuffer, release: () => void): Promise<void> {
  const meter = meterFor(env, slug);
  for (;;) {
    seal(buffer);
    const batch = buffer.pending[0];
    if (!batch) return release();
    try {
      await meter.applyUsage(batch);
    } catch (err) {
      // The meter refuses only what is not a batch (TypeError): resending it would block the rest.
      if (err instanceof TypeError) {
        console.error(`usage batch ${batch.batchId} for ${slug} refused by the meter (dropped)`, err);
        removeBatch(buffer, batch);
        continue;
      }
      // Kept with its id for the next flush; stats lag rather than lose or double calls.
      console.error(`usage flush for ${slug} failed (batch ${batch.batchId} kept)`, err);
      return release();
    }
    removeBatch(buffer, batch);
  }
}

function removeBatch(buffer: TenantBuffer, batch: UsageAggregateBatch): void {
  const at = buffer.pending.indexOf(batch);
  if (at >= 0) buffer.pending.splice(at, 1);
}
