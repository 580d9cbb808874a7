-- Each account's usage as the scorer last loaded it, for the day it scored (Health/UsageSnapshot.cs), kept with
-- the account's change counter at that load. While the counter is unchanged no usage arrived since, so the next
-- day's rescore (every account, when the UTC day rolls over) reads this one row instead of the account's rows.
CREATE TABLE usage_snapshots (
  account_id NVARCHAR(128) NOT NULL PRIMARY KEY,
  dirty_version BIGINT NOT NULL,
  data VARBINARY(MAX) NOT NULL
);
