using HealthScoring.Bench.Phases;
using HealthScoring.Bench.Report;
using HealthScoring.Bench.Workload;

namespace HealthScoring.Bench;

/// <summary><c>ingest</c>: builds the workload once, runs the chosen phases in order, prints the report.</summary>
internal static class IngestCommand
{
    public static async Task<int> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var pool = BatchPool.Create(options, startedAt);
        var ids = new EventIds();
        Progress.Say($"workload: {options.Templates} distinct batches of {pool.BatchSize} events, {pool.AverageFrameLength / 1024:0.0} KiB each");

        var results = new List<PhaseResult>();
        foreach (var phase in options.Phases)
        {
            var result = phase switch
            {
                Phase.E2E => await EndToEndPhase.RunAsync(pool, ids, options, cancellationToken),
                Phase.Protocol => await CeilingPhases.ProtocolAsync(pool, ids, options, cancellationToken),
                Phase.NullStore => await CeilingPhases.NullStoreAsync(pool, ids, options, cancellationToken),
                Phase.Storage => await StoragePhase.RunAsync(pool, ids, options, cancellationToken),
                _ => throw new ArgumentOutOfRangeException(nameof(options), phase, "Unknown phase."),
            };
            Progress.Say($"{phase}: {result.EventsPerSecond:N0} events/s{(result.Passed ? "" : " (a check FAILED)")}");
            results.Add(result);
        }

        Console.WriteLine(MarkdownReport.Render(options, pool, MachineInfo.Current(), startedAt, results));
        return results.TrueForAll(r => r.Passed) ? 0 : 1;
    }
}
