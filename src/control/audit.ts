// Audit log rows, always written in the same D1 batch as the change they describe.
export function auditStatement(
  db: D1Database,
  entry: { actor: string; action: string; subject: string; requestId: string; detail?: unknown; now: number },
): D1PreparedStatement {
  return db
    .prepare("INSERT INTO audit_log (ts, actor, action, subject, request_id, detail) VALUES (?, ?, ?, ?, ?, ?)")
    .bind(
      entry.now,
      entry.actor,
      entry.action,
      entry.subject,
      entry.requestId,
      entry.detail === undefined ? null : JSON.stringify(entry.detail),
    );
}
