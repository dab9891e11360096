-- 0002: the settlement ledger and de-duplicated audit rows.
-- Written only by the TenantMeter's outbox flush (objects/meter/ledger-outbox.ts): one row per settled
-- payment, inserted with ON CONFLICT (payment_id) DO NOTHING, so a flush that is retried after a
-- failure or a crash never doubles a row (docs/ARCHITECTURE.md §9.4). Money is an exact decimal string of the
-- asset's atomic units (USDC: 6 decimals), never a float.
CREATE TABLE ledger (
  payment_id TEXT PRIMARY KEY,            -- `${network}:${asset}:${from}:${nonce}`, lowercase
  tenant TEXT NOT NULL,                   -- tenant slug
  request_id TEXT NOT NULL,               -- x-request-id of the call that was paid for
  payer TEXT NOT NULL,                    -- verified payer address (lowercase)
  pay_to TEXT NOT NULL,
  amount_atomic TEXT NOT NULL CHECK (amount_atomic <> '' AND amount_atomic NOT GLOB '*[^0-9]*'),
  asset TEXT NOT NULL,
  network TEXT NOT NULL,
  tx_hash TEXT,                           -- NULL when reconciliation found the transfer done but not its hash
  settled_at INTEGER NOT NULL,            -- ms since epoch, when /settle returned (or reconciliation found it)
  recorded_at INTEGER NOT NULL            -- ms since epoch, when the row reached D1
);
CREATE INDEX ledger_tenant_settled ON ledger(tenant, settled_at);
CREATE INDEX ledger_payer_settled ON ledger(payer, settled_at);

-- Writers that may retry set a dedupe key (e.g. `settlement:<paymentId>`) and insert with
-- ON CONFLICT (dedupe_key) DO NOTHING; other writers leave it NULL (NULLs never collide).
ALTER TABLE audit_log ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX audit_log_dedupe ON audit_log(dedupe_key);
