-- SQLite's 0008 adds the watermark of its ingest journal (a second SQLite file that acknowledgements write while the
-- aggregates are folded into the store later), because SQLite has a single writer per file. SQL Server takes row
-- locks and lets replicas write side by side, so its ingest path still writes keys and aggregates in the
-- acknowledging transaction (Storage/SqlServerUsageStore.cs): nothing to change here. The script exists so that
-- both providers keep the same migration ids.
SELECT 1;
