-- 0001: creators, API keys, tenants and their hosts, and the audit log.
CREATE TABLE creators (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT,
  created_at INTEGER NOT NULL
);

-- API keys are stored only as HMAC-SHA256(API_KEY_SECRET, key); `prefix` lets a creator recognise one.
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  creator_id TEXT NOT NULL REFERENCES creators(id),
  key_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  scopes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX api_keys_creator ON api_keys(creator_id);

-- One row per tenant; `config` is the full validated TenantConfig JSON of `version`.
CREATE TABLE tenants (
  slug TEXT PRIMARY KEY,
  owner TEXT NOT NULL REFERENCES creators(id),
  resource_type TEXT NOT NULL,
  version INTEGER NOT NULL,
  config TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted_at INTEGER
);
CREATE INDEX tenants_owner ON tenants(owner);

CREATE TABLE tenant_hosts (
  host TEXT PRIMARY KEY,
  slug TEXT NOT NULL REFERENCES tenants(slug)
);
CREATE INDEX tenant_hosts_slug ON tenant_hosts(slug);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ts INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  request_id TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX audit_log_subject ON audit_log(subject, ts);
