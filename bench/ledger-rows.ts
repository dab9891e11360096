// What one settled payment costs D1 (docs/ARCHITECTURE.md §15): the ledger and audit rows the
// TenantMeter's outbox writes (objects/meter/ledger-outbox.ts's own two statements, read from
// that file) on the repo's D1 migrations, in node:sqlite (the SQLite D1 runs; WAL): bytes per
// payment after VACUUM and the time of one 100-payment batch. `node bench/ledger-rows.ts`.
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { REPO_ROOT } from "../cli/local/paths.ts";

const BATCHES = Number(process.env.BENCH_LEDGER_BATCHES ?? 1000);
const PER_BATCH = 100; // LEDGER_BATCH in ledger-outbox.ts

const hex = (n: number) => Array.from({ length: n }, () => "0123456789abcdef"[Math.floor(Math.random() * 16)]).join("");

function payment(i: number) {
  const payer = `0x${hex(40)}`;
  const asset = `0x${hex(40)}`;
  return {
    paymentId: `eip155:84532:${asset}:${payer}:0x${hex(64)}`,
    tenant: `tenant-${i % 50}`,
    requestId: crypto.randomUUID(),
    payer,
    payTo: `0x${hex(40)}`,
    amountAtomic: "1000",
    asset,
    network: "eip155:84532",
    transaction: `0x${hex(64)}`,
    settledAt: Date.now(),
  };
}

function statement(source: string, name: string): string {
  const found = new RegExp(`const ${name} = \`([\\s\\S]*?)\`;`).exec(source);
  if (!found) throw new Error(`${name} not found in ledger-outbox.ts`);
  return found[1]!;
}

const path = join(tmpdir(), `claw-ledger-${process.pid}.sqlite`);
const db = new DatabaseSync(path);
try {
  db.exec("PRAGMA journal_mode=WAL;");
  const migrations = join(REPO_ROOT, "migrations");
  for (const file of readdirSync(migrations).sort()) db.exec(readFileSync(join(migrations, file), "utf8"));
  const source = readFileSync(join(REPO_ROOT, "objects", "meter", "ledger-outbox.ts"), "utf8");
  const ledger = db.prepare(statement(source, "LEDGER_INSERT"));
  const audit = db.prepare(statement(source, "AUDIT_INSERT"));
  const batches = Array.from({ length: BATCHES }, (_, b) =>
    JSON.stringify(Array.from({ length: PER_BATCH }, (_, i) => payment(b * PER_BATCH + i))),
  );
  const started = performance.now();
  for (const batch of batches) {
    db.exec("BEGIN");
    ledger.run(batch, Date.now());
    audit.run(batch);
    db.exec("COMMIT");
  }
  const ms = performance.now() - started;
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.exec("VACUUM");
  db.close();
  const payments = BATCHES * PER_BATCH;
  console.log(
    `${payments} payments: ${(ms / BATCHES).toFixed(1)} ms per ${PER_BATCH}-payment batch ` +
      `(${Math.round(payments / (ms / 1000))} payments/s), ${Math.round(statSync(path).size / payments)} bytes per payment`,
  );
} finally {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
}
