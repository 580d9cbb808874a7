ALTER TABLE accounts ADD
  name NVARCHAR(200) NULL,
  segment NVARCHAR(100) NULL,
  plan_name NVARCHAR(100) NULL,
  seats_purchased INT NULL,
  mrr FLOAT NULL,
  currency NCHAR(3) NULL,
  contract_start INT NULL,
  renewal_date INT NULL,
  status NVARCHAR(16) NOT NULL CONSTRAINT df_accounts_status DEFAULT 'active',
  churned_at BIGINT NULL,
  champion_user_id NVARCHAR(128) NULL,
  goals_json NVARCHAR(MAX) NULL,
  attributes_json NVARCHAR(MAX) NULL,
  crm_updated_at BIGINT NULL,
  dirty_version BIGINT NOT NULL CONSTRAINT df_accounts_dirty_version DEFAULT 0,
  score INT NULL,
  band NVARCHAR(8) NULL,
  health_day INT NULL,
  health_json NVARCHAR(MAX) NULL,
  health_computed_at BIGINT NULL,
  health_changed_at BIGINT NULL,
  override_score INT NULL,
  override_band NVARCHAR(8) NULL,
  override_reason NVARCHAR(1000) NULL,
  override_expires_at BIGINT NULL,
  override_set_by NVARCHAR(200) NULL,
  override_set_at BIGINT NULL;

CREATE TABLE account_changes (
  id BIGINT IDENTITY(1, 1) NOT NULL PRIMARY KEY,
  account_id NVARCHAR(128) NOT NULL,
  changed_at BIGINT NOT NULL,
  day INT NOT NULL,
  mrr FLOAT NULL,
  seats_purchased INT NULL,
  status NVARCHAR(16) NOT NULL
);
CREATE INDEX ix_account_changes_account ON account_changes (account_id, changed_at);

CREATE TABLE scorecard_versions (
  id NVARCHAR(64) NOT NULL,
  version INT NOT NULL,
  body NVARCHAR(MAX) NOT NULL,
  created_at BIGINT NOT NULL,
  created_by NVARCHAR(200) NOT NULL,
  CONSTRAINT pk_scorecard_versions PRIMARY KEY (id, version)
);

CREATE TABLE health_daily (
  account_id NVARCHAR(128) NOT NULL,
  day INT NOT NULL,
  score INT NULL,
  band NVARCHAR(8) NULL,
  deployment FLOAT NULL,
  engagement FLOAT NULL,
  adoption FLOAT NULL,
  roi FLOAT NULL,
  scorecard_id NVARCHAR(64) NOT NULL,
  scorecard_version INT NOT NULL,
  CONSTRAINT pk_health_daily PRIMARY KEY (account_id, day)
);
