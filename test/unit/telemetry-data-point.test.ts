// The data-point mapping of raw telemetry (src/telemetry/data-point.ts, docs/ARCHITECTURE.md §14)
// over arbitrary inputs: every point is within Analytics Engine's limits (20 blobs, 20 doubles,
// one index of ≤ 96 bytes, blobs ≤ 5,120 bytes in total, the older and stricter limit), long
// fields are cut on character boundaries, and a point read back is the event it was written from.
import fc from "fast-check";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { OUTCOMES } from "../../objects/shared/outcomes.ts";
import { UsageEventSchema } from "../../objects/shared/usage-event.ts";
import {
  type CallTelemetry,
  cutToBytes,
  dataPointOf,
  eventOfRow,
  MAX_BLOB_BYTES,
  MAX_INDEX_BYTES,
  rowOfPoint,
} from "../../src/telemetry/data-point.ts";

const bytes = (s: string) => new TextEncoder().encode(s).length;
const anyText = fc.string({ unit: "binary", maxLength: 600 });

const telemetryArb: fc.Arbitrary<CallTelemetry> = fc.record({
  requestId: fc.oneof(anyText, fc.constant("req_0123456789abcdef")),
  apiId: fc.oneof(anyText, fc.stringMatching(/^[a-z0-9-]{3,40}$/)),
  owner: anyText,
  directory: anyText,
  caller: fc.oneof(anyText, fc.constant("ip:00ff00ff00ff00ff00ff00ff")),
  lifecycle: fc.constantFrom(...OUTCOMES),
  env: fc.constantFrom("prod" as const, "test" as const),
  network: anyText,
  facilitator: anyText,
  transport: fc.constantFrom("http" as const, "mcp" as const),
  operation: anyText,
  priceAtomic: fc.oneof(fc.stringMatching(/^\d{1,78}$/), fc.constant("0")),
  ts: fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.double()),
  status: fc.integer({ min: 100, max: 599 }),
  latencyMs: fc.oneof(fc.integer({ min: 0, max: 600_000 }), fc.double()),
});

describe("raw telemetry data points", () => {
  it("stay within Analytics Engine's limits for any input", () => {
    fc.assert(
      fc.property(telemetryArb, (t) => {
        const p = dataPointOf(t);
        expect(p.indexes).toHaveLength(1);
        expect(bytes(String(p.indexes![0]))).toBeLessThanOrEqual(MAX_INDEX_BYTES);
        expect(p.blobs!.length).toBeLessThanOrEqual(20);
        expect(p.doubles!.length).toBeLessThanOrEqual(20);
        const blobBytes = p.blobs!.reduce((n: number, b) => n + bytes(String(b)), 0);
        expect(blobBytes).toBeLessThanOrEqual(MAX_BLOB_BYTES);
        expect(MAX_BLOB_BYTES).toBeLessThanOrEqual(5120);
        for (const d of p.doubles!) expect(Number.isFinite(d)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("cuts long fields to their budget without splitting a character, and keeps short ones whole", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 300 }), fc.integer({ min: 0, max: 400 }), (s, max) => {
        const cut = cutToBytes(s, max);
        expect(bytes(cut)).toBeLessThanOrEqual(max);
        expect(s.startsWith(cut)).toBe(true);
        expect(/[\uD800-\uDBFF]$/.test(cut)).toBe(false); // never half a surrogate pair
        if (bytes(s) <= max) expect(cut).toBe(s);
        else expect(bytes(cut + [...s.slice(cut.length)][0])).toBeGreaterThan(max); // as long as fits
      }),
    );
    const long = dataPointOf({ ...sample(), operation: `GET /${"é".repeat(400)}`, requestId: "r".repeat(500) });
    expect(long.blobs![0]).toBe("r".repeat(128));
    expect(bytes(String(long.blobs![10]))).toBeLessThanOrEqual(256);
    expect(String(long.blobs![10]).startsWith("GET /é")).toBe(true);
  });

  it("reads back as the usage event it describes, plus facilitator, transport and operation", () => {
    fc.assert(
      fc.property(telemetryArb, (t) => {
        const event = eventOfRow(rowOfPoint(dataPointOf(t)));
        expect(event).not.toBeNull();
        expect(event!.lifecycle).toBe(t.lifecycle);
        expect(event!.env).toBe(t.env);
        expect(event!.transport).toBe(t.transport);
        expect(event!.status).toBe(t.status);
      }),
      { numRuns: 200 },
    );
    const t = sample();
    const event = eventOfRow(rowOfPoint(dataPointOf(t)))!;
    expect(v.is(UsageEventSchema, event)).toBe(true);
    expect(event).toEqual({
      requestId: t.requestId,
      ts: t.ts,
      apiId: t.apiId,
      owner: t.owner,
      directory: t.directory,
      caller: t.caller,
      status: 200,
      latencyMs: 12,
      priceAtomic: "1000",
      billedAtomic: "1000",
      lifecycle: "payment_settled",
      countable: true,
      billable: true,
      network: "eip155:84532",
      env: "test",
      facilitator: "facilitator.example",
      transport: "mcp",
      operation: "GET /v1/records/*",
    });
  });

  it("skips rows another writer left: wrong lifecycle, missing doubles", () => {
    const row = rowOfPoint(dataPointOf(sample()));
    expect(eventOfRow({ ...row, blob6: "exploded" })).toBeNull();
    expect(eventOfRow({ ...row, double2: undefined })).toBeNull();
    expect(eventOfRow({ ...row, blob12: "1e9" })).toBeNull();
  });
});

function sample(): CallTelemetry {
  return {
    requestId: "req_abc",
    apiId: "weather-api",
    owner: "cr_1",
    directory: "geo",
    caller: "0x00000000000000000000000000000000000000aa",
    lifecycle: "payment_settled",
    env: "test",
    network: "eip155:84532",
    facilitator: "facilitator.example",
    transport: "mcp",
    operation: "GET /v1/records/*",
    priceAtomic: "1000",
    ts: 1_790_000_000_000,
    status: 200,
    latencyMs: 12,
  };
}
