using HealthScoring.Service.Ingestion;

namespace HealthScoring.Bench.Serve;

/// <summary>
/// A store that does the in-memory half of a write (dedupe inside the group, the aggregate delta) and no
/// SQL: behind the real <see cref="IngestionWriter"/> it shows what the pipeline costs without SQLite.
/// </summary>
internal sealed class DiscardingUsageStore : IUsageStore
{
    public Task<BatchOutcome[]> WriteAsync(IngestGroup group, int receivedDay, long receivedAtMs, CancellationToken cancellationToken)
    {
        group.Resolve(group.CandidateKeys().ToHashSet(), out var outcomes);
        return Task.FromResult(outcomes);
    }

    public Task<int> PurgeKeysAsync(int receivedBeforeDay, CancellationToken cancellationToken) => Task.FromResult(0);
}
