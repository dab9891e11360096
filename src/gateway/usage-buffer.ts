// Usage records are buffered per isolate and sent to the tenant's meter in batches: one RPC
// (and one storage commit) for many calls instead of one per call, which roughly halved the
// metered throughput in the benchmark. Every call schedules a flush in its own waitUntil, so
// a record waits at most FLUSH_DELAY_MS and never depends on later traffic; whichever flush
// runs first takes the whole buffer. Each flush uses a stub made in its own request, because
// workerd forbids I/O objects from one request being used in another.
import type { UsageRecord } from "../../objects/meter/types.ts";
import { meterFor } from "../tenancy/meter-config.ts";

const FLUSH_DELAY_MS = 50;
const MAX_BATCH = 500;
const MAX_BUFFERED = 20_000;

const buffers = new Map<string, UsageRecord[]>();

export function recordUsage(env: Env, ctx: ExecutionContext, slug: string, usage: UsageRecord): void {
  let buffer = buffers.get(slug);
  if (!buffer) buffers.set(slug, (buffer = []));
  // A meter that cannot keep up must not grow the isolate's memory without bound.
  if (buffer.length < MAX_BUFFERED) buffer.push(usage);
  ctx.waitUntil(flushSoon(env, slug));
}

async function flushSoon(env: Env, slug: string): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, FLUSH_DELAY_MS));
  for (;;) {
    const buffer = buffers.get(slug);
    if (!buffer || buffer.length === 0) return;
    const batch = buffer.splice(0, MAX_BATCH);
    try {
      await meterFor(env, slug).recordBatch(batch);
    } catch (err) {
      // Put them back for the next flush; stats lag rather than lose calls.
      buffer.unshift(...batch);
      console.error(`usage flush for ${slug} failed (${batch.length} records kept)`, err);
      return;
    }
  }
}
