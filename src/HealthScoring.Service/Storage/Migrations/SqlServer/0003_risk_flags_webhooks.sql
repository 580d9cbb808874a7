-- Risk flags: see the SQLite script for the meaning of each column.
CREATE TABLE risk_flags (
  id NVARCHAR(40) NOT NULL CONSTRAINT pk_risk_flags PRIMARY KEY,
  account_id NVARCHAR(128) NOT NULL,
  type NVARCHAR(40) NOT NULL,
  severity NVARCHAR(8) NOT NULL,
  raised_day INT NOT NULL,
  raised_at BIGINT NOT NULL,
  cleared_day INT NULL,
  cleared_at BIGINT NULL,
  reason NVARCHAR(1000) NOT NULL,
  evidence_json NVARCHAR(MAX) NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX ix_risk_flags_account ON risk_flags (account_id, raised_day);
CREATE INDEX ix_risk_flags_raised ON risk_flags (raised_day, id);

CREATE TABLE webhooks (
  id NVARCHAR(64) NOT NULL CONSTRAINT pk_webhooks PRIMARY KEY,
  url NVARCHAR(2048) NOT NULL,
  secret NVARCHAR(256) NOT NULL,
  events NVARCHAR(400) NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by NVARCHAR(200) NOT NULL
);

CREATE TABLE webhook_deliveries (
  id NVARCHAR(40) NOT NULL CONSTRAINT pk_webhook_deliveries PRIMARY KEY,
  webhook_id NVARCHAR(64) NOT NULL,
  event_type NVARCHAR(40) NOT NULL,
  payload NVARCHAR(MAX) NOT NULL,
  created_at BIGINT NOT NULL,
  state NVARCHAR(16) NOT NULL,
  attempts INT NOT NULL CONSTRAINT df_webhook_deliveries_attempts DEFAULT 0,
  next_attempt_at BIGINT NULL,
  last_attempt_at BIGINT NULL,
  last_status INT NULL,
  last_error NVARCHAR(1000) NULL,
  delivered_at BIGINT NULL
);
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX ix_webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at, id);
