-- 0004: tenant secrets (function exposeEnv values, proxy header values). Values are stored only
-- as AES-GCM ciphertext under a per-tenant key derived with HKDF from the SECRETS_KEY secret;
-- the additional data binds each ciphertext to its tenant and name, so rows cannot be swapped.
CREATE TABLE tenant_secrets (
  slug TEXT NOT NULL,
  name TEXT NOT NULL,
  iv TEXT NOT NULL,
  ciphertext TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (slug, name)
);
