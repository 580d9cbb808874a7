-- SQLite's 0008 adds an acknowledgement journal (ingest_keys, ingest_pending) because SQLite has a single writer.
-- SQL Server takes row locks and lets replicas write side by side, so its ingest path still writes keys and
-- aggregates in the acknowledging transaction (Storage/SqlServerUsageStore.cs): nothing to change here. The script
-- exists so that both providers keep the same migration ids.
SELECT 1;
