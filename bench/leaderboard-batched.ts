// The report of the leaderboard bench's batched mode (bench/leaderboard.ts, issue 14 item 5):
// aggregated usage batches as the TenantMeters send them (bench/leaderboard-worker/traffic.js)
// into one empty shard. calls/s AND rows/s per chunk, the calls-per-row ratio the traffic
// produced, and the rates at fill levels (after 0.2M, 0.5M, 1M, 2M calls), so "flat as it fills"
// reads off one table.

/** One chunk of an ingest run, as the bench Worker reports it (both modes). */
export interface IngestChunk {
  events: number;
  batches: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** Sum of the batch RPC times (what the shard took, seen from the caller). */
  rpcMs: number;
  /** The batch loop's wall time (≈ rpcMs). */
  wallMs: number;
  /** Generating the chunk's events in the Worker, before the timed loop (not counted). */
  generateMs: number;
  /** Batched mode: rows sent, calls generated (settlements among them are not in the batches). */
  rows?: number;
  rowsPerSec?: number;
  generated?: number;
  settled?: number;
  /** Batched mode: dispatcher batches the meter queued, and the delivery batches it sealed. */
  sourceBatches?: number;
  deliveryBatches?: number;
  /** Batched mode: the shard after the chunk (aggregate rows, dedupe keys, database bytes). */
  fill?: { payerHours: number; apiHours: number; batchKeys: number; challengeKeys: number; bytes: number };
  eventsPerSec: number;
  batchMs: { p50: number; p99: number; max: number };
}

/** The batched mode's run: its timeline, batches per RPC and chunks. */
export interface BatchedResult {
  callsPerHour: number;
  perRpc: number;
  chunks: IngestChunk[];
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
/** Fill levels the summary reports (calls carried by batches, cumulative). */
const MARKS = [200_000, 500_000, 1_000_000, 2_000_000];

interface Level {
  calls: number;
  chunk: IngestChunk;
}

/** The chunk in which the cumulative calls first reach each mark (only marks the run reached). */
function levels(chunks: readonly IngestChunk[]): Level[] {
  const out: Level[] = [];
  let calls = 0;
  let mark = 0;
  for (const chunk of chunks) {
    calls += chunk.events;
    while (mark < MARKS.length && calls >= MARKS[mark]!) {
      out.push({ calls: MARKS[mark]!, chunk });
      mark += 1;
    }
  }
  return out;
}

function fillCells(c: IngestChunk): string {
  const f = c.fill;
  const mib = (f?.bytes ?? 0) / 1024 / 1024;
  return f
    ? `${int(f.payerHours)} | ${int(f.batchKeys)} | ${int(f.challengeKeys)} | ${mib.toFixed(1)}`
    : "– | – | – | –";
}

/** Calls per second over several chunks: their calls over their RPC time. */
function rateOf(chunks: readonly IngestChunk[]): number {
  return (chunks.reduce((n, c) => n + c.events, 0) / chunks.reduce((n, c) => n + c.rpcMs, 0)) * 1000;
}

export function batchedReport(batched: BatchedResult, perEvent: IngestChunk[]): string[] {
  const chunks = batched.chunks;
  const sum = (f: (c: IngestChunk) => number) => chunks.reduce((n, c) => n + f(c), 0);
  const calls = sum((c) => c.events);
  const rows = sum((c) => c.rows ?? 0);
  const rpcMs = sum((c) => c.rpcMs);
  const eventRate = (perEvent.reduce((n, c) => n + c.events, 0) / perEvent.reduce((n, c) => n + c.rpcMs, 0)) * 1000;
  const first = chunks[0]!;
  const last = chunks[chunks.length - 1]!;
  const bad = sum((c) => c.duplicates + c.rejected);
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  // Single chunks are noisy on a shared machine: the ends of the run, a few chunks each, compare better.
  const ends = chunks.slice(-Math.max(1, Math.min(5, Math.floor(chunks.length / 2))));
  let done = 0;
  const fillRows = chunks.map((c) => {
    done += c.events;
    const rpc = `${c.batchMs.p50.toFixed(1)} / ${c.batchMs.p99.toFixed(1)}`;
    const ratio = (c.events / Math.max(1, c.rows ?? 0)).toFixed(2);
    const rates = `${int(c.eventsPerSec)} | ${int(c.rowsPerSec ?? 0)}`;
    return `| ${int(done)} | ${fillCells(c)} | ${rates} | ${ratio} | ${rpc} |`;
  });
  const marks = levels(chunks).map(
    (l) => `| after ${int(l.calls)} calls | ${int(l.chunk.eventsPerSec)} | ${int(l.chunk.rowsPerSec ?? 0)} |`,
  );
  return [
    `### Aggregated usage batches into one shard, as the TenantMeters send them (issue 14)`,
    ``,
    `${int(sum((c) => c.generated ?? 0))} calls generated for a shard at 50k calls/s ` +
      `(bench/leaderboard-worker/traffic.js: callers Zipf(1.1) over 10,000 identities, the five APIs and their ` +
      `mixes, one hour of timeline per ${int(batched.callsPerHour)} calls generated), ` +
      `folded per isolate and 50 ms (\`foldRecords\`), applied (\`leaderboardRows\`: the ` +
      `${int(sum((c) => c.settled ?? 0))} settlements travel one event per payment and are not counted here) and ` +
      `coalesced per tenant and 1 s (\`sealGroup\`): ${int(sum((c) => c.sourceBatches ?? 0))} dispatcher batches → ` +
      `${int(sum((c) => c.deliveryBatches ?? 0))} delivery batches of ${int(rows)} rows, ${batched.perRpc} per ` +
      `\`ingestBatches\` RPC (${int(sum((c) => c.batches))} RPCs, one at a time). ` +
      `A call = one call carried by a batch.`,
    ``,
    `| measure | value |`,
    `| --- | ---: |`,
    `| calls applied (accepted / duplicate + rejected) | ${int(sum((c) => c.accepted))} / ${int(bad)} |`,
    `| **ingest, all ${int(calls)} calls** | **${int((calls / rpcMs) * 1000)} calls/s**, ` +
      `${int((rows / rpcMs) * 1000)} rows/s (${seconds(rpcMs)} s of RPCs; generating and folding took ` +
      `${seconds(sum((c) => c.generateMs))} s in the producer, not counted) |`,
    `| calls per row (the traffic's fold) | ${(calls / Math.max(1, rows)).toFixed(2)} |`,
    `| first chunk (empty shard) / last chunk | ${int(first.eventsPerSec)} / ${int(last.eventsPerSec)} calls/s ` +
      `(last / first ${(last.eventsPerSec / first.eventsPerSec).toFixed(2)}); rows/s ` +
      `${int(first.rowsPerSec ?? 0)} / ${int(last.rowsPerSec ?? 0)} |`,
    `| first ${ends.length} / last ${ends.length} chunks, calls/s (RPC time weighted) | ` +
      `${int(rateOf(chunks.slice(0, ends.length)))} / ${int(rateOf(ends))} ` +
      `(last / first ${(rateOf(ends) / rateOf(chunks.slice(0, ends.length))).toFixed(2)}) |`,
    `| **ratio batched / per-event ingest (same run, calls/s)** | ` +
      `**${(((calls / rpcMs) * 1000) / eventRate).toFixed(2)}** |`,
    ``,
    `At fill levels (the chunk in which the shard reached that many calls):`,
    ``,
    `| fill | calls/s | rows/s |`,
    `| --- | ---: | ---: |`,
    ...(marks.length > 0 ? marks : [`| (the run reached none of ${MARKS.map(int).join(", ")}) | – | – |`]),
    ``,
    `By chunk (the shard after each chunk):`,
    ``,
    `| calls in the shard | payer-hour rows | batch keys | challenge keys | database MiB | calls/s | rows/s | calls/row | ` +
      `RPC p50 / p99 ms |`,
    `| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...fillRows,
    ``,
  ];
}
