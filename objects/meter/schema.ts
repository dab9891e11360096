// The TenantMeter's SQLite schema and its migrations (docs/ARCHITECTURE.md §4). Every table is
// keyed so each hot statement is a primary-key lookup. Which module reads and writes each table:
//   meta            config.ts ('config'), usage-stats.ts ('callers_total'), this file ('schema_version')
//   buckets, quota_counts                        admission.ts
//   usage_hourly, caller_days, callers           usage-stats.ts, usage-aggregate.ts
//   usage_batches, usage_transport               usage-aggregate.ts (migration 3; usage_transport
//                                                also usage-stats.ts)
//   payments, idempotency_keys                   payment-store.ts (payments.fingerprint: migration 2,
//                                                payments.charged / charge_error: migration 4)
//   spend                                        spend-book.ts
//   outbox                                       outbox.ts (rows of ledger-outbox.ts and usage-outbox.ts)
// Version 1 is the schema as it first shipped (CREATE ... IF NOT EXISTS, so applying it again is
// a no-op); later changes are numbered MIGRATIONS, applied once each in order and recorded in
// meta 'schema_version', all in the constructor before any request is served.
import { LATENCY_BUCKETS } from "../shared/histogram.ts";

/** Latency histogram columns of usage_hourly (fixed names, never built from input). */
export const HIST_COLUMNS: readonly string[] = Array.from({ length: LATENCY_BUCKETS }, (_, i) => `h${i}`);

const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS buckets (
  kind TEXT NOT NULL, caller TEXT NOT NULL, tokens REAL NOT NULL, updated_ms INTEGER NOT NULL,
  PRIMARY KEY (kind, caller)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quota_counts (
  kind TEXT NOT NULL, period TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (kind, period)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS usage_hourly (
  hour INTEGER PRIMARY KEY,
  calls INTEGER NOT NULL DEFAULT 0, served INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0, refused INTEGER NOT NULL DEFAULT 0,
  ${HIST_COLUMNS.map((c) => `${c} INTEGER NOT NULL DEFAULT 0`).join(", ")}
);
CREATE TABLE IF NOT EXISTS caller_days (
  day TEXT NOT NULL, caller TEXT NOT NULL, label TEXT,
  PRIMARY KEY (day, caller)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS callers (caller TEXT PRIMARY KEY, first_seen_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS payments (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  amount TEXT NOT NULL, payer TEXT NOT NULL, pay_to TEXT NOT NULL, network TEXT NOT NULL, asset TEXT NOT NULL,
  valid_before INTEGER NOT NULL, request_id TEXT NOT NULL, tenant TEXT NOT NULL,
  reserved_at INTEGER NOT NULL, day TEXT NOT NULL, month TEXT NOT NULL, idem_key TEXT,
  due_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0, retry TEXT, unresolved INTEGER NOT NULL DEFAULT 0,
  settled_at INTEGER, tx TEXT,
  resp_status INTEGER, resp_headers TEXT, resp_body TEXT, resp_omitted INTEGER
);
CREATE INDEX IF NOT EXISTS payments_due ON payments (status, due_at);
CREATE TABLE IF NOT EXISTS spend (
  kind TEXT NOT NULL, period TEXT NOT NULL, payer TEXT NOT NULL,
  settled TEXT NOT NULL, reserved TEXT NOT NULL,
  PRIMARY KEY (kind, period, payer)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idempotency_keys (
  payer TEXT NOT NULL, key TEXT NOT NULL, payment_id TEXT NOT NULL, created_ms INTEGER NOT NULL,
  PRIMARY KEY (payer, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_ms);
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL, created_ms INTEGER NOT NULL
);
`;

/** Schema changes after version 1, in order; each runs once (ALTER TABLE is not idempotent). */
export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  // 2: the request a payment pays for (fingerprint.ts); null for payments admitted before.
  { version: 2, sql: "ALTER TABLE payments ADD COLUMN fingerprint TEXT" },
  // 3: aggregated usage (usage-aggregate.ts): dispatcher batch ids applied, calls per transport.
  {
    version: 3,
    sql: `CREATE TABLE IF NOT EXISTS usage_batches (batch_id TEXT PRIMARY KEY, seen_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usage_batches_by_time ON usage_batches (seen_ms);
CREATE TABLE IF NOT EXISTS usage_transport (
  hour INTEGER NOT NULL, transport TEXT NOT NULL, calls INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (hour, transport)
) WITHOUT ROWID;`,
  },
  // 4: a usage-priced (upto) payment's actual charge and the tenant error of its report; null for
  // every other payment (its charge is its amount).
  {
    version: 4,
    sql: "ALTER TABLE payments ADD COLUMN charged TEXT; ALTER TABLE payments ADD COLUMN charge_error TEXT",
  },
];

/** The version a fresh or fully migrated meter is at. */
export const SCHEMA_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 1);

/**
 * Brings the object's SQLite to SCHEMA_VERSION. Runs in the constructor; synchronous, and each
 * migration commits together with its version row, so a crash never leaves one half-applied.
 */
export function migrate(sql: SqlStorage, transactionSync: <T>(fn: () => T) => T): number {
  sql.exec(SCHEMA_V1);
  const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").toArray()[0];
  let version = row ? Number(row.value) : 1;
  for (const m of MIGRATIONS) {
    if (m.version <= version) continue;
    transactionSync(() => {
      sql.exec(m.sql);
      const upsert =
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?) " +
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value";
      sql.exec(upsert, String(m.version));
    });
    version = m.version;
  }
  return version;
}
