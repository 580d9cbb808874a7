-- The scorer's idle poll asks whether any account is stale (never scored, or scored before today): this index
-- answers with a seek, where the question used to read the whole accounts table every poll.
CREATE INDEX ix_accounts_health_day ON accounts (health_day);
