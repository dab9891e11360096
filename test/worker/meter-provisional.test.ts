// Provisional paid admits (objects/meter/provisional.ts, docs/ARCHITECTURE.md §3 "Overlapped
// phases") in a real TenantMeter: asked while /verify is out with the claimed payer, refused for
// limits keyed by the payer, and withdrawn without a trace when verify does not confirm it: the
// payment lock, the reservation, the keys and the tenant-wide tokens and quota counts all go back.
import { describe, expect, it } from "vitest";
import {
  admitPaid,
  claim,
  codes,
  commit,
  configured,
  PAYER_B,
  paidRequest,
  refused,
  T0,
} from "./meter-payment-helpers.ts";

const provisional = { provisional: true } as const;

describe("provisional paid admits", () => {
  it("a withdrawn admit gives back its global token: the limit still admits exactly 2 more", async () => {
    const { stub } = await configured({ rateLimit: { global: { requests: 2, windowSeconds: 3600 } } });
    const p = claim();
    const req = paidRequest(p, provisional);
    expect((await stub.admitPaid(req)).ok).toBe(true);
    expect(await stub.withdrawPaid(p.id, req.requestId)).toBe(true);
    expect(await stub.paymentStatus(p.id)).toBeNull();
    expect((await stub.spend(T0, p.payer)).daily).toEqual({ settled: "0", reserved: "0" });
    const after = await Promise.all([claim(), claim(), claim()].map((c) => admitPaid(stub, c)));
    expect(codes(after)).toEqual({ ok: 2, rate_limited: 1 });
  });

  it("a withdrawn admit gives back its daily and monthly quota counts", async () => {
    const { stub } = await configured({ usageLimit: { dailyRequests: 1, monthlyRequests: 1 } });
    const p = claim();
    const req = paidRequest(p, provisional);
    expect((await stub.admitPaid(req)).ok).toBe(true);
    expect(await stub.withdrawPaid(p.id, req.requestId)).toBe(true);
    expect((await admitPaid(stub, claim())).ok).toBe(true);
    expect(refused(await admitPaid(stub, claim())).code).toBe("quota_exceeded");
  });

  it("20 provisional copies of one payment: one admit; withdrawn, the payment is admitted again", async () => {
    const { stub } = await configured({ rateLimit: { global: { requests: 1, windowSeconds: 3600 } } });
    const p = claim();
    const reqs = Array.from({ length: 20 }, () => paidRequest(p, provisional));
    const results = await Promise.all(reqs.map((r) => stub.admitPaid(r)));
    expect(codes(results)).toEqual({ ok: 1, payment_in_flight: 19 });
    const winner = reqs[results.findIndex((r) => r.ok)]!;
    // Only the request that admitted it can withdraw it.
    const loser = reqs.find((r) => r !== winner)!;
    expect(await stub.withdrawPaid(p.id, loser.requestId)).toBe(false);
    expect(await stub.paymentStatus(p.id)).toMatchObject({ status: "in_flight" });
    expect(await stub.withdrawPaid(p.id, winner.requestId)).toBe(true);
    // The one global token came back with it.
    expect((await admitPaid(stub, p)).ok).toBe(true);
  });

  it("a withdrawn admit frees its Idempotency-Key for another payment", async () => {
    const { stub } = await configured();
    const p = claim();
    const req = paidRequest(p, { ...provisional, idempotencyKey: "order-42" });
    expect((await stub.admitPaid(req)).ok).toBe(true);
    expect(refused(await admitPaid(stub, claim(), { idempotencyKey: "order-42" })).code).toBe(
      "idempotency_key_conflict",
    );
    expect(await stub.withdrawPaid(p.id, req.requestId)).toBe(true);
    expect((await admitPaid(stub, claim(), { idempotencyKey: "order-42" })).ok).toBe(true);
  });

  it("a settled or confirmed payment is never withdrawn", async () => {
    const { stub } = await configured();
    const p = claim();
    const req = paidRequest(p, provisional);
    expect((await stub.admitPaid(req)).ok).toBe(true);
    expect(await commit(stub, p)).toBe("committed");
    expect(await stub.withdrawPaid(p.id, req.requestId)).toBe(false);
    expect(await stub.paymentStatus(p.id)).toMatchObject({ status: "settled" });
    expect((await stub.spend(T0, p.payer)).daily).toEqual({ settled: "1000", reserved: "0" });
  });

  it("limits keyed by the payer: payer_unverified, nothing written; the admit after verify works", async () => {
    for (const overrides of [
      { rateLimit: { perCaller: { requests: 5, windowSeconds: 60 } } },
      { spendCapsAtomic: { perPayerDaily: "5000" } },
    ]) {
      const { stub } = await configured(overrides);
      const p = claim({ payer: PAYER_B });
      expect(refused(await admitPaid(stub, p, provisional))).toMatchObject({ code: "payer_unverified", status: 409 });
      expect(await stub.paymentStatus(p.id)).toBeNull();
      expect((await stub.spend(T0, p.payer)).daily).toEqual({ settled: "0", reserved: "0" });
      expect((await admitPaid(stub, p)).ok).toBe(true);
    }
  });
});
