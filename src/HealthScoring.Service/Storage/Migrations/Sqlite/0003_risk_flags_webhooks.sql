-- Risk flags: one row per flag (a rule holding from raised_day until the day before cleared_day); days are UTC
-- days since 1970-01-01, times Unix milliseconds. The id is derived from (account, type, raised_day), so
-- rescoring the same history finds the same flag instead of raising a duplicate.
CREATE TABLE risk_flags (
  id TEXT NOT NULL PRIMARY KEY,
  account_id TEXT NOT NULL,
  type TEXT NOT NULL,
  severity TEXT NOT NULL,
  raised_day INTEGER NOT NULL,
  raised_at INTEGER NOT NULL,
  cleared_day INTEGER NULL,
  cleared_at INTEGER NULL,
  reason TEXT NOT NULL,
  evidence_json TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX ix_risk_flags_account ON risk_flags (account_id, raised_day);
CREATE INDEX ix_risk_flags_raised ON risk_flags (raised_day, id);

-- Webhook subscriptions. The secret signs deliveries (HMAC), so it is kept as given: it cannot be hashed.
CREATE TABLE webhooks (
  id TEXT NOT NULL PRIMARY KEY,
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  events TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL
);

-- The outbox: one row per delivery to one subscription, written in the scorer's transaction.
CREATE TABLE webhook_deliveries (
  id TEXT NOT NULL PRIMARY KEY,
  webhook_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NULL,
  last_attempt_at INTEGER NULL,
  last_status INTEGER NULL,
  last_error TEXT NULL,
  delivered_at INTEGER NULL
);
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX ix_webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at, id);
