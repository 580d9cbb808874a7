namespace HealthScoring.Service.Ingestion;

/// <summary>The store seam of the ingest hot path (one implementation per provider, in Storage/).</summary>
internal interface IUsageStore
{
    /// <summary>
    /// Stores a group of batches in one transaction: dedupes them and records every new event. When this returns,
    /// the accepted events are durable and will be counted exactly once; when it throws, none of the group was
    /// stored. A store may fold the accepted events into the aggregates later (<see cref="FoldAsync"/>).
    /// </summary>
    Task<BatchOutcome[]> WriteAsync(IngestGroup group, int receivedDay, long receivedAtMs, CancellationToken cancellationToken);

    /// <summary>Forgets idempotency keys received before the given day.</summary>
    Task<int> PurgeKeysAsync(int receivedBeforeDay, CancellationToken cancellationToken);

    /// <summary>
    /// Folds accepted events that are not yet in the aggregates into them, oldest first, about
    /// <paramref name="maxEvents"/> at most; returns how many (0: none were waiting). A store that writes the
    /// aggregates in <see cref="WriteAsync"/> never has any.
    /// </summary>
    Task<int> FoldAsync(int maxEvents, CancellationToken cancellationToken) => Task.FromResult(0);

    /// <summary>Accepted events not yet folded into the aggregates.</summary>
    long UnfoldedEvents => 0;

    /// <summary>
    /// Completes once every event of the account (null: of every account) accepted before the call is in the
    /// aggregates; at once when none is pending.
    /// </summary>
    Task WaitFoldedAsync(string? accountId, CancellationToken cancellationToken) => Task.CompletedTask;
}

internal static class UsageStoreReads
{
    /// <summary>How long a read waits for acknowledged events to reach the usage aggregates.</summary>
    public static readonly TimeSpan FoldWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Read-your-writes for the REST facade: waits until the events of <paramref name="accountId"/> (null: of every
    /// account) acknowledged before now are in the aggregates, up to <see cref="FoldWait"/>; after that the caller
    /// reads the aggregates as they are. Costs a lookup under a lock when nothing of the account is pending.
    /// </summary>
    public static async ValueTask ReadYourWritesAsync(this IUsageStore store, string? accountId, CancellationToken cancellationToken)
    {
        // The wait ends with the request's own limit, so no waiter outlives it even while folds are stalled.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(FoldWait);
        try
        {
            await store.WaitFoldedAsync(accountId, limit.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The fold is behind by more than the wait: serve the last folded totals.
        }
    }
}
