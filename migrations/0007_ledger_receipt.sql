-- 0007: the signed receipt (x402 offer-receipt, src/receipts/) a settled payment's payer got, kept
-- with its ledger row so GET /v1/tenants/:slug/earnings and the dashboard can show it. JSON of the
-- EIP-712 signed receipt {format, payload, signature}; NULL when none was issued (no signing key
-- configured, or a settlement the meter reconciled without the dispatcher).
ALTER TABLE ledger ADD COLUMN receipt TEXT;
