-- Accounts exist from their first event (or a CRM upsert). Times are Unix milliseconds (UTC);
-- days are whole UTC days since 1970-01-01.
CREATE TABLE accounts (
  account_id NVARCHAR(128) NOT NULL PRIMARY KEY,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  first_event_at BIGINT NULL,
  last_event_at BIGINT NULL,
  event_count BIGINT NOT NULL DEFAULT 0,
  quantity_total FLOAT NOT NULL DEFAULT 0,
  usage_changed_from_day INT NULL
);
CREATE INDEX ix_accounts_usage_changed ON accounts (usage_changed_from_day) WHERE usage_changed_from_day IS NOT NULL;

CREATE TABLE usage_daily (
  account_id NVARCHAR(128) NOT NULL,
  day INT NOT NULL,
  event_name NVARCHAR(100) NOT NULL,
  event_count BIGINT NOT NULL,
  quantity FLOAT NOT NULL,
  CONSTRAINT pk_usage_daily PRIMARY KEY (account_id, day, event_name)
);

CREATE TABLE active_users_daily (
  account_id NVARCHAR(128) NOT NULL,
  day INT NOT NULL,
  user_id NVARCHAR(128) NOT NULL,
  event_count BIGINT NOT NULL,
  CONSTRAINT pk_active_users_daily PRIMARY KEY (account_id, day, user_id)
);

CREATE TABLE event_keys (
  idem_key BINARY(16) NOT NULL PRIMARY KEY,
  received_day INT NOT NULL
);
CREATE INDEX ix_event_keys_received_day ON event_keys (received_day);

CREATE TABLE api_keys (
  id NVARCHAR(40) NOT NULL PRIMARY KEY,
  name NVARCHAR(200) NOT NULL,
  key_hash BINARY(32) NOT NULL UNIQUE,
  scopes NVARCHAR(200) NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT NULL
);
