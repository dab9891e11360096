// The development path of raw telemetry (docs/ARCHITECTURE.md §14): without the TELEMETRY binding,
// points are kept in a per-isolate buffer and sent to the TelemetrySink Durable Object in batches.
// The hot path is one array push; a flush is scheduled in the call's waitUntil only when none is
// pending, so a burst of calls costs one timer and one RPC per FLUSH_DELAY_MS, not one per call.
// 200 ms: the operator's raw-event view lags that much in development, and a busy `claw dev`
// sends a few larger appends per second instead of twenty small ones.
// The buffer is bounded (a sink that cannot keep up drops points, counted, instead of growing the
// isolate), and a flush that never finished (its request's context was cut) is replaced after
// STALE_FLUSH_MS. Each flush makes its stub in its own request (workerd forbids I/O objects across
// requests).
import { MAX_APPEND, SINK_INSTANCE, type SinkPoint } from "../../objects/telemetry/telemetry-sink.ts";

const FLUSH_DELAY_MS = 200;
const STALE_FLUSH_MS = 5_000;
export const MAX_BUFFERED = 5_000;

const buffer: SinkPoint[] = [];
let flushScheduledAt = 0;
let dropped = 0;

export function pushLocal(env: Env, ctx: ExecutionContext, point: AnalyticsEngineDataPoint): void {
  if (buffer.length >= MAX_BUFFERED || !env.TELEMETRY_SINK) {
    dropped++;
    return;
  }
  buffer.push({
    index1: String(point.indexes?.[0] ?? ""),
    blobs: (point.blobs ?? []).map((b) => (typeof b === "string" ? b : "")),
    doubles: point.doubles ?? [],
  });
  const now = Date.now();
  if (flushScheduledAt !== 0 && now - flushScheduledAt < STALE_FLUSH_MS) return;
  flushScheduledAt = now;
  ctx.waitUntil(flushSoon(env));
}

/** Points dropped because the buffer was full (since the isolate started). */
export function droppedLocal(): number {
  return dropped;
}

/** The sink's stub, or null on a deployment that binds neither TELEMETRY nor TELEMETRY_SINK. */
export function localSink(env: Env) {
  const ns = env.TELEMETRY_SINK;
  return ns ? ns.get(ns.idFromName(SINK_INSTANCE)) : null;
}

async function flushSoon(env: Env): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, FLUSH_DELAY_MS));
  try {
    while (buffer.length > 0) {
      const batch = buffer.splice(0, MAX_APPEND);
      try {
        await localSink(env)?.append(batch);
      } catch (err) {
        // Development telemetry: losing a batch is acceptable, blocking calls on it is not.
        dropped += batch.length;
        console.error(`telemetry sink append failed (${batch.length} points dropped)`, err);
        return;
      }
    }
  } finally {
    flushScheduledAt = 0;
  }
}
