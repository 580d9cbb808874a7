-- The acknowledgement path (Storage/SqliteUsageStore.cs). An OK reply commits only these two rows per group of
-- batches; the aggregates (usage_daily, active_users_daily, accounts) are folded from ingest_pending afterwards,
-- in the same transaction that deletes the folded rows, so each accepted event is counted exactly once.

-- The idempotency record: the 16-byte keys of every event accepted in one group commit, packed. Kept for
-- HealthScoring:Ingestion:IdempotencyDays after receipt (then purged); the service holds them in memory to
-- dedupe. Keys in the older event_keys table are read and purged the same way.
-- AUTOINCREMENT: ids only grow, even after a purge empties the table (the fold relies on their order).
CREATE TABLE ingest_keys (
  batch_id INTEGER PRIMARY KEY AUTOINCREMENT,
  received_day INTEGER NOT NULL,
  keys BLOB NOT NULL
);
CREATE INDEX ix_ingest_keys_received_day ON ingest_keys (received_day);

-- Accepted events not yet folded into the aggregates (Storage/JournalCodec.cs), one row per group commit.
-- batch_id is the group's ingest_keys.batch_id.
CREATE TABLE ingest_pending (
  batch_id INTEGER PRIMARY KEY,
  received_at INTEGER NOT NULL,
  event_count INTEGER NOT NULL,
  events BLOB NOT NULL
);
