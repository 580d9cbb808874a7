-- Acknowledged events wait in the ingest journal, a SQLite file beside this one (SqliteStoreDataSource.JournalPath,
-- Storage/SqliteUsageStore.cs), until they are folded into usage_daily, active_users_daily and accounts. The fold
-- moves this watermark in the same transaction as the aggregates: journal groups up to `through` are counted, the
-- ones after it are not yet. That keeps every acknowledged event counted exactly once across crashes, although the
-- two files commit separately.
CREATE TABLE ingest_folded (
  id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  through INTEGER NOT NULL
);
INSERT INTO ingest_folded (id, through) VALUES (1, 0);
