using HealthScoring.Service.Ingestion;

namespace HealthScoring.Service.Tests.Infrastructure;

internal static class UsageStoreExtensions
{
    /// <summary>Writes a group, then folds everything pending into the aggregates (what the service's folder does next).</summary>
    public static async Task<BatchOutcome[]> WriteAndFoldAsync(this IUsageStore store, IngestGroup group, int receivedDay, long receivedAtMs, CancellationToken cancellationToken)
    {
        var outcomes = await store.WriteAsync(group, receivedDay, receivedAtMs, cancellationToken);
        while (await store.FoldAsync(int.MaxValue, cancellationToken) > 0)
        {
        }

        return outcomes;
    }
}
