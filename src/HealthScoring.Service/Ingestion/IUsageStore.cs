namespace HealthScoring.Service.Ingestion;

/// <summary>The store seam of the ingest hot path (one implementation per provider, in Storage/).</summary>
internal interface IUsageStore
{
    /// <summary>
    /// Stores a group of batches in one transaction: dedupe keys and aggregates. When this returns, the
    /// accepted events are durable; when it throws, none of the group was stored.
    /// </summary>
    Task<BatchOutcome[]> WriteAsync(IngestGroup group, int receivedDay, long receivedAtMs, CancellationToken cancellationToken);

    /// <summary>Forgets idempotency keys received before the given day.</summary>
    Task<int> PurgeKeysAsync(int receivedBeforeDay, CancellationToken cancellationToken);
}
