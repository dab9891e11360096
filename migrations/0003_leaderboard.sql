-- 0003: creator-linked wallets and the leaderboard snapshot (docs/ARCHITECTURE.md §7).

-- Wallets a creator declares as their own (their test wallets, other payouts). Together with the
-- payTo of every tenant they own, these weigh zero in the score of the creator's APIs.
-- `address` is lowercase 0x-hex.
CREATE TABLE creator_wallets (
  creator_id TEXT NOT NULL REFERENCES creators(id),
  address TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (creator_id, address)
);
CREATE INDEX creator_wallets_address ON creator_wallets(address);

-- The snapshot the public API reads. Written only by the Leaderboard rollup coordinator
-- (objects/leaderboard/rollup.ts via objects/leaderboard/snapshot-store.ts), replaced whole in
-- one D1 batch.
-- `body` columns are the JSON documents served as they are; the other columns exist to filter
-- and order. `win` is today | week | overall.
CREATE TABLE leaderboard_meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL,            -- +1 per changed snapshot; part of every ETag
  as_of INTEGER NOT NULL,              -- ms: the moment the snapshot describes (windows end here)
  content_hash TEXT NOT NULL,          -- SHA-256 of the rows: an identical rollup writes nothing
  period_seconds INTEGER NOT NULL      -- rollup period, served as Cache-Control max-age
);

CREATE TABLE leaderboard_entries (
  win TEXT NOT NULL,
  slug TEXT NOT NULL,
  directory TEXT NOT NULL,
  rank INTEGER,                        -- NULL: emerging
  position INTEGER NOT NULL,           -- order in the window: ranked by rank, then emerging
  search TEXT NOT NULL,                -- lowercase "slug directory description", for ?q=
  body TEXT NOT NULL,
  PRIMARY KEY (win, slug)
);
CREATE INDEX leaderboard_entries_order ON leaderboard_entries(win, position);

CREATE TABLE leaderboard_directories (
  win TEXT NOT NULL,
  directory TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (win, directory)
);

CREATE TABLE leaderboard_stats (
  win TEXT PRIMARY KEY,
  body TEXT NOT NULL
);

-- One row per published API: metrics and score breakdown for every window, how to call it, and
-- its x402 requirements (discoverable = paid with requirements, listed at /discovery/resources).
CREATE TABLE leaderboard_apis (
  slug TEXT PRIMARY KEY,
  discoverable INTEGER NOT NULL,
  position INTEGER NOT NULL,           -- order in the overall window
  body TEXT NOT NULL
);
CREATE INDEX leaderboard_apis_discovery ON leaderboard_apis(discoverable, position);
