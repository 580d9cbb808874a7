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
                [serviceDll], Path.GetDirectoryName(serviceDll), data, settings, cancellationToken, sampleBacklog: true);

            var restart = await RestartAsync(serviceDll, data, settings, pool, ids, cancellationToken);
            var counts = StoreFiles.Count(m.DatabasePath);
            var accepted = m.Load.AcceptedTotal + restart.Accepted;
            // A graceful stop folds what is pending; whatever it could not is still durable and counted at the next start.
            var stored = counts.EventKeys == accepted && counts.AccountEvents + counts.PendingEvents == accepted
                && counts.DailyEvents + counts.PendingEvents == accepted;
            string[] checks =
            [
                $"store check ({(stored ? "passed" : "FAILED")}): idempotency keys {counts.EventKeys:N0}, SUM(accounts.event_count) " +
                $"{counts.AccountEvents:N0}, SUM(usage_daily.event_count) {counts.DailyEvents:N0}, left unfolded at stop {counts.PendingEvents:N0}; acknowledged {accepted:N0} (the restart's batch included)",
            ];
            checks = [.. checks, restart.Check];
            stored &= restart.Passed;
            return ServedLoad.ToResult(Phase.E2E, $"End-to-end: service + SQLite (synchronous={options.Synchronous.ToUpperInvariant()})",
                m, checks, stored, StoreFiles.Bytes(m.DatabasePath));
        }
        finally
        {
            StoreFiles.DeleteDirectory(data);
        }
    }

    /// <summary>
    /// Starts the service again on the phase's store: how long until it is ready, and until it acknowledges a batch
    /// (which waits for the idempotency keys of the run to be loaded into memory), and its memory then.
    /// </summary>
    private static async Task<(string Check, bool Passed, long Accepted)> RestartAsync(
        string serviceDll, string data, IReadOnlyDictionary<string, string> settings, BatchPool pool, EventIds ids, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        await using var server = await ChildServer.StartAsync([serviceDll], Path.GetDirectoryName(serviceDll)!, data, settings, cancellationToken);
        var ready = started.Elapsed;
        using var client = new Load.GrpcIngestClient(server.GrpcUrl, ChildServer.ApiKey, 1);
        var template = pool.Next();
        var body = new byte[template.Length];
        template.Stamp(body, ids.Reserve(template.EventCount));
        var reply = await client.IngestAsync(body, body.Length, 0, cancellationToken);
        var acknowledged = started.Elapsed;
        var (peak, _) = server.Memory();
        await server.StopAsync();
        var passed = reply.Status == 0 && reply.Accepted == template.EventCount;
        return ($"restart on this store ({(passed ? "passed" : "FAILED")}): ready after {ready.TotalSeconds:0.0} s, first batch acknowledged after " +
            $"{acknowledged.TotalSeconds:0.0} s (idempotency keys loaded), peak RSS {peak / 1048576.0:N0} MiB", passed, reply.Accepted);
    }
}
