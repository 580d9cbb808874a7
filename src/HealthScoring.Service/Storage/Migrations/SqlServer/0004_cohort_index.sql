-- The cohort table reads every account's MRR/status history in account order: a covering index serves it.
DROP INDEX ix_account_changes_account ON account_changes;
CREATE INDEX ix_account_changes_account ON account_changes (account_id, changed_at) INCLUDE (mrr, status);
CREATE INDEX ix_accounts_crm_updated ON accounts (crm_updated_at);
CREATE INDEX ix_accounts_created ON accounts (created_at);
