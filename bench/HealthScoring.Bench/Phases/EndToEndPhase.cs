using HealthScoring.Bench.Processes;
using HealthScoring.Bench.Workload;

namespace HealthScoring.Bench.Phases;

/// <summary>
/// (a) The real service, started from its build output as a child process on a fresh SQLite file, driven
/// over gRPC. Afterwards the store is opened directly: every accepted event must be there exactly once.
/// </summary>
internal static class EndToEndPhase
{
    public static async Task<PhaseResult> RunAsync(BatchPool pool, EventIds ids, BenchOptions options, CancellationToken cancellationToken)
    {
        var serviceDll = RepositoryPaths.ServiceDll(options.ServiceDll);
        var data = RepositoryPaths.NewScratchDirectory("e2e");
        Progress.Say($"e2e: {serviceDll}, store {data}, synchronous={options.Synchronous}");
        try
        {
            var settings = new Dictionary<string, string> { ["HealthScoring__Storage__SqliteSynchronous"] = options.Synchronous };
            var m = await new ServedLoad(pool, ids, options).RunAsync(
                [serviceDll], Path.GetDirectoryName(serviceDll), data, settings, cancellationToken);

            var counts = StoreFiles.Count(m.DatabasePath);
            var accepted = m.Load.AcceptedTotal;
            // A graceful stop folds what is pending; whatever it could not is still durable and counted at the next start.
            var stored = counts.EventKeys == accepted && counts.AccountEvents + counts.PendingEvents == accepted
                && counts.DailyEvents + counts.PendingEvents == accepted;
            string[] checks =
            [
                $"store check ({(stored ? "passed" : "FAILED")}): idempotency keys {counts.EventKeys:N0}, SUM(accounts.event_count) " +
                $"{counts.AccountEvents:N0}, SUM(usage_daily.event_count) {counts.DailyEvents:N0}, left unfolded at stop {counts.PendingEvents:N0}; acknowledged {accepted:N0}",
            ];
            return ServedLoad.ToResult(Phase.E2E, $"End-to-end: service + SQLite (synchronous={options.Synchronous.ToUpperInvariant()})",
                m, checks, stored, StoreFiles.Bytes(m.DatabasePath));
        }
        finally
        {
            StoreFiles.DeleteDirectory(data);
        }
    }
}
