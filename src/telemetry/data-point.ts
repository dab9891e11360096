// One finished call as one Workers Analytics Engine data point, and back (docs/ARCHITECTURE.md
// §14 "Raw telemetry"). Pure: the writer (record.ts), the local sink and both readers use these
// two functions, so the positions below are defined once.
//
//   index1   tenant slug (the sampling key: the operator's view reads one API at a time)
//   blob1    request id             blob2  tenant slug        blob3  owner (creator id)
//   blob4    directory              blob5  caller             blob6  lifecycle (outcome)
//   blob7    env (prod | test)      blob8  network (CAIP-2)   blob9  facilitator host ("" if free)
//   blob10   transport (http | mcp) blob11 operation          blob12 price, atomic units
//   double1  call start, ms since epoch   double2 HTTP status   double3 latency, ms
//
// The caller is the verified payer address or `ip:<hmac>` (src/tenancy/caller.ts), never a raw IP
// and never a caller-supplied header (x-agent-id stays out). Analytics Engine takes at most 20
// blobs, 20 doubles and one index of at most 96 bytes per point, and at most 16 KB of blobs (5,120
// bytes before June 2025): every field is cut to a byte budget, so a point is at most
// MAX_BLOB_BYTES (1,152) of blobs whatever the input. Cuts never split a UTF-8 character.
import * as v from "valibot";
import { OUTCOMES, type Outcome } from "../../objects/shared/outcomes.ts";
import { usageEventFor, type UsageEvent } from "../../objects/shared/usage-event.ts";

export interface CallTelemetry {
  requestId: string;
  apiId: string;
  owner: string;
  directory: string;
  caller: string;
  lifecycle: Outcome;
  env: "prod" | "test";
  network: string;
  /** Host of the facilitator that verified or settled the payment; "" for free calls. */
  facilitator: string;
  transport: "http" | "mcp";
  /** The priced pattern the call matched ("GET /v1/search"), else `METHOD /path` without the query. */
  operation: string;
  priceAtomic: string;
  ts: number;
  status: number;
  latencyMs: number;
}

/** What the operator's view lists: the usage event of the call, plus what only telemetry knows. */
// UsageEvent's own `transport` is the http | mcp picklist; a stored point's blob is any string.
export type TelemetryEvent = Omit<UsageEvent, "transport"> & {
  facilitator: string;
  transport: string;
  operation: string;
};

/** Byte budget per blob, in blob order (UsageEventSchema's limits where it has one). */
const BLOB_FIELDS = [
  ["requestId", 128],
  ["apiId", 64],
  ["owner", 64],
  ["directory", 64],
  ["caller", 128],
  ["lifecycle", 32],
  ["env", 8],
  ["network", 64],
  ["facilitator", 256],
  ["transport", 8],
  ["operation", 256],
  ["priceAtomic", 80],
] as const satisfies readonly (readonly [keyof CallTelemetry, number])[];

export const MAX_INDEX_BYTES = 96;
export const MAX_BLOB_BYTES = BLOB_FIELDS.reduce((sum, [, bytes]) => sum + bytes, 0);
export const BLOB_COUNT = BLOB_FIELDS.length;
export const DOUBLE_COUNT = 3;

const encoder = new TextEncoder();

/** `text` cut to at most `max` UTF-8 bytes, on a character boundary. */
export function cutToBytes(text: string, max: number): string {
  if (text.length * 3 <= max) return text; // fast path: cannot be over
  if (encoder.encode(text).length <= max) return text;
  let out = "";
  let used = 0;
  for (const ch of text) {
    const size = encoder.encode(ch).length;
    if (used + size > max) break;
    out += ch;
    used += size;
  }
  return out;
}

const finite = (n: number): number => (Number.isFinite(n) ? n : 0);

export function dataPointOf(t: CallTelemetry): AnalyticsEngineDataPoint {
  return {
    indexes: [cutToBytes(t.apiId, MAX_INDEX_BYTES)],
    blobs: BLOB_FIELDS.map(([field, bytes]) => cutToBytes(String(t[field]), bytes)),
    doubles: [finite(t.ts), finite(t.status), finite(t.latencyMs)],
  };
}

/** A row as the SQL API (FORMAT JSON) or the local sink returns it: index1, blob1…, double1…. */
export type PointRow = Record<string, unknown>;

const Text = v.string();
const Num = v.pipe(v.number(), v.finite());
const RowSchema = v.object({
  blob1: Text,
  blob2: Text,
  blob3: Text,
  blob4: Text,
  blob5: Text,
  blob6: v.picklist(OUTCOMES),
  blob7: v.picklist(["prod", "test"]),
  blob8: Text,
  blob9: v.optional(Text, ""),
  blob10: v.optional(Text, ""),
  blob11: v.optional(Text, ""),
  blob12: v.optional(v.pipe(v.string(), v.regex(/^\d{1,78}$/)), "0"),
  double1: Num,
  double2: Num,
  double3: Num,
});

/** The event a stored row describes, or null for a row this format did not write. */
export function eventOfRow(row: PointRow): TelemetryEvent | null {
  const parsed = v.safeParse(RowSchema, row);
  if (!parsed.success) return null;
  const r = parsed.output;
  const event = usageEventFor(
    {
      requestId: r.blob1,
      ts: r.double1,
      caller: r.blob5,
      status: r.double2,
      latencyMs: r.double3,
      lifecycle: r.blob6,
    },
    { apiId: r.blob2, owner: r.blob3, directory: r.blob4, network: r.blob8, env: r.blob7, priceAtomic: r.blob12 },
  );
  return { ...event, facilitator: r.blob9, transport: r.blob10, operation: r.blob11 };
}

/** The columns of a point, named as the SQL API names them (the local sink stores them so). */
export function rowOfPoint(point: AnalyticsEngineDataPoint): PointRow {
  const row: PointRow = { index1: point.indexes?.[0] ?? "" };
  (point.blobs ?? []).forEach((b, i) => (row[`blob${i + 1}`] = typeof b === "string" ? b : ""));
  (point.doubles ?? []).forEach((d, i) => (row[`double${i + 1}`] = d));
  return row;
}
