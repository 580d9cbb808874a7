-- Accounts exist from their first event (or a CRM upsert). Times are Unix milliseconds (UTC);
-- days are whole UTC days since 1970-01-01.
CREATE TABLE accounts (
  account_id TEXT NOT NULL PRIMARY KEY,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  first_event_at INTEGER NULL,
  last_event_at INTEGER NULL,
  event_count INTEGER NOT NULL DEFAULT 0,
  quantity_total REAL NOT NULL DEFAULT 0,
  -- The earliest day whose usage changed since the account was last scored (NULL: nothing to do).
  usage_changed_from_day INTEGER NULL
);
CREATE INDEX ix_accounts_usage_changed ON accounts (usage_changed_from_day) WHERE usage_changed_from_day IS NOT NULL;

-- What scoring reads: per account and UTC day, events and quantity per event name ...
CREATE TABLE usage_daily (
  account_id TEXT NOT NULL,
  day INTEGER NOT NULL,
  event_name TEXT NOT NULL,
  event_count INTEGER NOT NULL,
  quantity REAL NOT NULL,
  PRIMARY KEY (account_id, day, event_name)
) WITHOUT ROWID;

-- ... and which users were active.
CREATE TABLE active_users_daily (
  account_id TEXT NOT NULL,
  day INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  event_count INTEGER NOT NULL,
  PRIMARY KEY (account_id, day, user_id)
) WITHOUT ROWID;

-- Idempotency: the first 16 bytes of SHA-256(account_id, event_id) of every accepted event,
-- kept for HealthScoring:Ingestion:IdempotencyDays after it was received.
CREATE TABLE event_keys (
  idem_key BLOB NOT NULL PRIMARY KEY,
  received_day INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE api_keys (
  id TEXT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  key_hash BLOB NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER NULL
);
