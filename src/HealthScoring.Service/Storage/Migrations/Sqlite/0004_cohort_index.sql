-- The cohort table reads every account's MRR/status history in account order: a covering index serves it
-- without a table lookup per change.
DROP INDEX ix_account_changes_account;
CREATE INDEX ix_account_changes_account ON account_changes (account_id, changed_at, mrr, status);
-- The cohort table keeps its CRM inputs in memory while nothing CRM-side changed: this makes that check a seek.
CREATE INDEX ix_accounts_crm_updated ON accounts (crm_updated_at);
CREATE INDEX ix_accounts_created ON accounts (created_at);
