using HealthScoring.Bench.Processes;
using HealthScoring.Bench.Workload;

namespace HealthScoring.Bench.Phases;

/// <summary>
/// (b) The protocol ceiling and the null-store diagnostic: the same requests, sent the same way, to this
/// benchmark's own <c>serve</c> command in a second child process (so the load generator and the server are
/// separate processes with separate GCs, exactly as in the end-to-end phase).
/// </summary>
internal static class CeilingPhases
{
    public static Task<PhaseResult> ProtocolAsync(BatchPool pool, EventIds ids, BenchOptions options, CancellationToken cancellationToken) =>
        RunAsync(Phase.Protocol, "discard", "Protocol ceiling: gRPC layer + parse + validate, discard", pool, ids, options, cancellationToken);

    public static Task<PhaseResult> NullStoreAsync(BatchPool pool, EventIds ids, BenchOptions options, CancellationToken cancellationToken) =>
        RunAsync(Phase.NullStore, "nullstore", "Diagnostic: service ingest pipeline + writer, no SQL", pool, ids, options, cancellationToken);

    private static async Task<PhaseResult> RunAsync(
        Phase phase, string handler, string title, BatchPool pool, EventIds ids, BenchOptions options, CancellationToken cancellationToken)
    {
        var data = RepositoryPaths.NewScratchDirectory(handler);
        Progress.Say($"{phase}: serve --handler {handler} (child process)");
        try
        {
            var settings = ServiceGc.Settings(); // the ceiling server runs with the service's GC
            var m = await new ServedLoad(pool, ids, options).RunAsync(
                [RepositoryPaths.BenchDll, "serve", "--handler", handler], null, data, settings, cancellationToken);
            return ServedLoad.ToResult(phase, title, m, [], extraPassed: true, databaseBytes: null);
        }
        finally
        {
            StoreFiles.DeleteDirectory(data);
        }
    }
}
