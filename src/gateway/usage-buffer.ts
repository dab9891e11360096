// Usage is aggregated per isolate and sent to the tenant's meter as one batch per interval
// (docs/ARCHITECTURE.md §4, §14): records fold in memory into rows of like calls
// (objects/meter/usage-fold.ts), so a batch costs the meter per row, not per call. Every batch
// gets an id unique to this isolate (a random isolate id + a sequence number) and the meter
// applies an id once, so a batch resent after a failed or lost RPC is never counted twice; a
// failed batch is kept as it was (same id, same rows) and sent again first. Every call schedules
// a flush in its own waitUntil, so a record waits at most FLUSH_DELAY_MS and never depends on
// later traffic; one flush at a time sends a tenant's batches. Each flush uses a stub made in its
// own request, because workerd forbids I/O objects from one request being used in another.
import type { UsageAggregateBatch, UsageFold } from "../../objects/meter/usage-fold.ts";
import { addRow, MAX_FOLD_ROWS, rowOf } from "../../objects/meter/usage-fold.ts";
import type { UsageRecord } from "../../objects/meter/types.ts";
import { meterFor } from "../tenancy/meter-config.ts";

const FLUSH_DELAY_MS = 50;
/** Sealed batches kept per tenant while its meter is unreachable (then new records are dropped). */
const MAX_PENDING_BATCHES = 100;

interface TenantBuffer {
  open: UsageFold;
  /** Sealed batches in order, sent first; a failed one stays here with its id. */
  pending: UsageAggregateBatch[];
  sending: boolean;
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
}

export function recordUsage(env: Env, ctx: ExecutionContext, slug: string, usage: UsageRecord): void {
  let buffer = buffers.get(slug);
  if (!buffer) buffers.set(slug, (buffer = { open: new Map(), pending: [], sending: false }));
  const row = rowOf(usage);
  if (!addRow(buffer.open, row, MAX_FOLD_ROWS)) {
    // A full batch is sealed; a meter that cannot keep up must not grow memory without bound.
    if (buffer.pending.length < MAX_PENDING_BATCHES) {
      seal(buffer);
      addRow(buffer.open, row, MAX_FOLD_ROWS);
    }
  }
  ctx.waitUntil(flushSoon(env, slug));
}

async function flushSoon(env: Env, slug: string): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, FLUSH_DELAY_MS));
  const buffer = buffers.get(slug);
  if (!buffer || buffer.sending) return;
  buffer.sending = true;
  try {
    const meter = meterFor(env, slug);
    for (;;) {
      seal(buffer);
      const batch = buffer.pending[0];
      if (!batch) return;
      try {
        await meter.applyUsage(batch);
      } catch (err) {
        // The meter refuses only what is not a batch (TypeError): resending it would block the rest.
        if (err instanceof TypeError) {
          console.error(`usage batch ${batch.batchId} for ${slug} refused by the meter (dropped)`, err);
          buffer.pending.shift();
          continue;
        }
        // Kept with its id for the next flush; stats lag rather than lose or double calls.
        console.error(`usage flush for ${slug} failed (batch ${batch.batchId} kept)`, err);
        return;
      }
      buffer.pending.shift();
    }
  } finally {
    buffer.sending = false;
  }
}
