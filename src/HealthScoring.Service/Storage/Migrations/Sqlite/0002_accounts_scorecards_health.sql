-- CRM facts of an account (PUT /api/v1/accounts/{id}); days are UTC days since 1970-01-01.
ALTER TABLE accounts ADD COLUMN name TEXT NULL;
ALTER TABLE accounts ADD COLUMN segment TEXT NULL;
ALTER TABLE accounts ADD COLUMN plan_name TEXT NULL;
ALTER TABLE accounts ADD COLUMN seats_purchased INTEGER NULL;
ALTER TABLE accounts ADD COLUMN mrr REAL NULL;
ALTER TABLE accounts ADD COLUMN currency TEXT NULL;
ALTER TABLE accounts ADD COLUMN contract_start INTEGER NULL;
ALTER TABLE accounts ADD COLUMN renewal_date INTEGER NULL;
ALTER TABLE accounts ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE accounts ADD COLUMN churned_at INTEGER NULL;
ALTER TABLE accounts ADD COLUMN champion_user_id TEXT NULL;
ALTER TABLE accounts ADD COLUMN goals_json TEXT NULL;
ALTER TABLE accounts ADD COLUMN attributes_json TEXT NULL;
ALTER TABLE accounts ADD COLUMN crm_updated_at INTEGER NULL;
-- Bumped by every change that needs a rescore (events, CRM upserts, rescore requests): the scorer
-- clears usage_changed_from_day only if nothing changed while it was working.
ALTER TABLE accounts ADD COLUMN dirty_version INTEGER NOT NULL DEFAULT 0;
-- The current health (the latest day's snapshot, with its explanation).
ALTER TABLE accounts ADD COLUMN score INTEGER NULL;
ALTER TABLE accounts ADD COLUMN band TEXT NULL;
ALTER TABLE accounts ADD COLUMN health_day INTEGER NULL;
ALTER TABLE accounts ADD COLUMN health_json TEXT NULL;
ALTER TABLE accounts ADD COLUMN health_computed_at INTEGER NULL;
-- When score or band last changed (incremental CRM pulls).
ALTER TABLE accounts ADD COLUMN health_changed_at INTEGER NULL;
-- A CSM override, shown beside the computed score, never replacing it.
ALTER TABLE accounts ADD COLUMN override_score INTEGER NULL;
ALTER TABLE accounts ADD COLUMN override_band TEXT NULL;
ALTER TABLE accounts ADD COLUMN override_reason TEXT NULL;
ALTER TABLE accounts ADD COLUMN override_expires_at INTEGER NULL;
ALTER TABLE accounts ADD COLUMN override_set_by TEXT NULL;
ALTER TABLE accounts ADD COLUMN override_set_at INTEGER NULL;

-- MRR, seats and status over time: one row per change (cohort revenue retention reads it).
CREATE TABLE account_changes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id TEXT NOT NULL,
  changed_at INTEGER NOT NULL,
  day INTEGER NOT NULL,
  mrr REAL NULL,
  seats_purchased INTEGER NULL,
  status TEXT NOT NULL
);
CREATE INDEX ix_account_changes_account ON account_changes (account_id, changed_at);

-- Every version of every scorecard; the highest version of an id is the current one.
CREATE TABLE scorecard_versions (
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (id, version)
);

-- One health snapshot per account per UTC day.
CREATE TABLE health_daily (
  account_id TEXT NOT NULL,
  day INTEGER NOT NULL,
  score INTEGER NULL,
  band TEXT NULL,
  deployment REAL NULL,
  engagement REAL NULL,
  adoption REAL NULL,
  roi REAL NULL,
  scorecard_id TEXT NOT NULL,
  scorecard_version INTEGER NOT NULL,
  PRIMARY KEY (account_id, day)
) WITHOUT ROWID;
