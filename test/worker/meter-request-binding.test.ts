// A payment is bound to the request it paid for (issue 9 item 8, docs/ARCHITECTURE.md §9.2): the
// same payment presented with another request (method, path or query) is refused with 409
// payment_request_mismatch, settled or not, and never returns the first request's response.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { requestFingerprint } from "../../objects/meter/fingerprint.ts";
import { SCHEMA_VERSION } from "../../objects/meter/schema.ts";
import type { TenantMeter } from "../../objects/meter/tenant-meter.ts";
import {
  admitPaid,
  claim,
  commit,
  configured,
  paidRequest,
  refused,
  response,
  T0,
  thrownInside,
} from "./meter-payment-helpers.ts";

const RECORDS = await requestFingerprint("GET", "/v1/records", "limit=1");
const SCHEMA = await requestFingerprint("GET", "/v1/schema", "");

describe("requestFingerprint", () => {
  it("tells method, path and query apart, and reads a leading ? as part of nothing", async () => {
    expect(RECORDS).toMatch(/^v1:[0-9a-f]{64}$/);
    expect(await requestFingerprint("get", "/v1/records", "?limit=1")).toBe(RECORDS);
    const others = await Promise.all([
      requestFingerprint("POST", "/v1/records", "limit=1"),
      requestFingerprint("GET", "/v1/records/", "limit=1"),
      requestFingerprint("GET", "/v1/records", "limit=2"),
      requestFingerprint("GET", "/v1/records", ""),
      requestFingerprint("GET", "//v1/records", "limit=1"),
    ]);
    expect(new Set([RECORDS, ...others]).size).toBe(6);
  });
});

describe("payments: a payment is bound to the request it paid for", () => {
  it("a settled payment replayed on another path is 409 payment_request_mismatch, on its own path the stored response", async () => {
    const { stub } = await configured();
    const p = claim();
    expect((await admitPaid(stub, p, { fingerprint: RECORDS })).ok).toBe(true);
    // While in flight: another request is a mismatch, not "in flight" (it would get the wrong result).
    expect(refused(await admitPaid(stub, p, { fingerprint: SCHEMA }))).toMatchObject({
      code: "payment_request_mismatch",
      status: 409,
    });
    expect(refused(await admitPaid(stub, p, { fingerprint: RECORDS })).code).toBe("payment_in_flight");
    expect(await commit(stub, p)).toBe("committed");

    const other = refused(await admitPaid(stub, p, { fingerprint: SCHEMA }));
    expect(other).toMatchObject({ code: "payment_request_mismatch", status: 409, configVersion: 1, headers: {} });
    expect(other.message).toMatch(/different request/);
    expect("stored" in other).toBe(false); // the first request's content is not handed out
    expect(refused(await admitPaid(stub, p, { fingerprint: RECORDS }))).toMatchObject({
      code: "payment_replayed",
      stored: response(),
    });
    // A dispatcher that sends no fingerprint gets the old behaviour (nothing to compare).
    expect(refused(await admitPaid(stub, p)).code).toBe("payment_replayed");
    expect((await stub.spend(T0)).daily).toEqual({ settled: "1000", reserved: "0" });
  });

  it("an Idempotency-Key is bound through its payment: the same key and payment on another request is a mismatch", async () => {
    const { stub } = await configured();
    const p = claim();
    expect((await admitPaid(stub, p, { fingerprint: RECORDS, idempotencyKey: "order-7" })).ok).toBe(true);
    await commit(stub, p);
    const replayElsewhere = refused(await admitPaid(stub, p, { fingerprint: SCHEMA, idempotencyKey: "order-7" }));
    expect(replayElsewhere.code).toBe("payment_request_mismatch");
    // A new payment under the same key stays a key conflict, whatever its request.
    expect(refused(await admitPaid(stub, claim(), { fingerprint: SCHEMA, idempotencyKey: "order-7" })).code).toBe(
      "idempotency_key_conflict",
    );
  });

  it("a late commit keeps the binding of what was admitted", async () => {
    const { stub } = await configured();
    const p = claim();
    const first = paidRequest(p, { fingerprint: RECORDS });
    expect((await stub.admitPaid(first)).ok).toBe(true);
    await stub.release(p.id);
    const admitted = { payment: p, reservedAt: T0, requestId: first.requestId, fingerprint: RECORDS };
    const ledger = { requestId: first.requestId, settledAt: T0 };
    const settlement = { transaction: "0xlate", network: p.network, payer: p.payer };
    expect(await stub.commit(p.id, settlement, response(), ledger, admitted)).toBe("committed_late");
    expect(refused(await admitPaid(stub, p, { fingerprint: SCHEMA })).code).toBe("payment_request_mismatch");
    expect(refused(await admitPaid(stub, p, { fingerprint: RECORDS })).code).toBe("payment_replayed");
  });

  it("a malformed fingerprint throws TypeError and writes nothing", async () => {
    const { stub } = await configured();
    const req = paidRequest(claim(), { fingerprint: "x".repeat(129) });
    expect(await thrownInside(stub, (m) => m.admitPaid(req))).toMatch(
      /^TypeError: invalid PaidAdmitRequest: fingerprint/,
    );
    expect(await thrownInside(stub, (m) => m.admitPaid({ ...req, fingerprint: "" }))).toMatch(/fingerprint/);
    expect(await stub.paymentStatus(req.payment.id)).toBeNull();
  });

  it("a meter created before fingerprints gets the column by migration, once, keeping its payments", async () => {
    const { stub } = await configured();
    const old = claim();
    expect((await admitPaid(stub, old)).ok).toBe(true);
    // Roll the object's SQLite back to schema version 1, as a meter deployed before this change has it.
    await runInDurableObject(stub, (_m: TenantMeter, state) => {
      state.storage.sql.exec("ALTER TABLE payments DROP COLUMN fingerprint");
      // (and the later migrations' columns: schema.ts migration 4)
      state.storage.sql.exec("ALTER TABLE payments DROP COLUMN charged");
      state.storage.sql.exec("ALTER TABLE payments DROP COLUMN charge_error");
      state.storage.sql.exec("DELETE FROM meta WHERE key = 'schema_version'");
    });
    await evictDurableObject(stub);
    expect(await stub.paymentStatus(old.id)).toMatchObject({ status: "in_flight" });
    const version = await runInDurableObject(
      stub,
      (_m: TenantMeter, state) =>
        state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").one().value,
    );
    // Every later migration runs too (3: aggregated usage tables, 4: upto charges), each once.
    expect(SCHEMA_VERSION).toBe(4);
    expect(version).toBe(String(SCHEMA_VERSION));
    // The old payment has no binding: any request may replay it, as before.
    await commit(stub, old);
    expect(refused(await admitPaid(stub, old, { fingerprint: SCHEMA })).code).toBe("payment_replayed");
    // New payments are bound; a second construction does not migrate again (it would fail on ALTER).
    await evictDurableObject(stub);
    const p = claim();
    expect((await admitPaid(stub, p, { fingerprint: RECORDS })).ok).toBe(true);
    expect(refused(await admitPaid(stub, p, { fingerprint: SCHEMA })).code).toBe("payment_request_mismatch");
  });
});
