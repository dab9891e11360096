-- 0005: creator dashboard sessions (src/web/dashboard/session.ts, docs/ARCHITECTURE.md §13).
-- Signing in with an API key creates a short-lived session; only the SHA-256 of its id is
-- stored, so a leaked table cannot be replayed as cookies. Logout deletes the row; revoking the
-- key ends its sessions (the read joins api_keys).
CREATE TABLE web_sessions (
  id_hash TEXT PRIMARY KEY,
  creator_id TEXT NOT NULL REFERENCES creators(id),
  key_id TEXT NOT NULL REFERENCES api_keys(id),
  csrf TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX web_sessions_by_expiry ON web_sessions(expires_at);
