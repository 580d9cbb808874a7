using HealthScoring.Bench.Load;
using HealthScoring.Bench.Processes;
using HealthScoring.Bench.Workload;

namespace HealthScoring.Bench.Phases;

/// <summary>What a load run against a child server measured, and where its store is.</summary>
/// <param name="Backlog">For a server with a SQLite store: acknowledged events not yet folded, sampled during the window.</param>
internal sealed record ServedMeasurement(LoadResult Load, CpuWindow Cpu, long PeakRssBytes, string DatabasePath, BacklogSamples? Backlog);

/// <summary>The unfolded backlog: its largest sample in the window and its value when the window closed.</summary>
internal sealed record BacklogSamples(long Max, long AtEnd, int Samples, IReadOnlyList<long> EveryTenSeconds);

/// <summary>Starts a child server, drives it over gRPC for warm-up + window, records CPU and memory, stops it.</summary>
internal sealed class ServedLoad(BatchPool pool, EventIds ids, BenchOptions options)
{
    public async Task<ServedMeasurement> RunAsync(
        IReadOnlyList<string> arguments, string? workingDirectory, string dataDirectory,
        IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken, bool sampleBacklog = false)
    {
        await using var server = await ChildServer.StartAsync(arguments, workingDirectory ?? dataDirectory, dataDirectory, settings, cancellationToken);
        Progress.Say($"  server pid {server.Pid} ready on {server.GrpcUrl}; {options.WarmupSeconds} s warm-up, {options.Seconds} s measured, " +
            $"{options.Concurrency} calls in flight over {options.Connections} connection(s)");
        using var client = new GrpcIngestClient(server.GrpcUrl, ChildServer.ApiKey, options.Connections);
        var cpu = new CpuWindow(server.Pid);
        var backlog = sampleBacklog ? new BacklogSampler(server.DatabasePath) : null;
        var load = await new LoadDriver(pool, ids, options).RunAsync(
            client,
            () => { cpu.Start(); backlog?.Start(); },
            () => { cpu.Stop(); backlog?.Stop(); },
            cancellationToken);
        var (peak, _) = server.Memory();
        await server.StopAsync();
        return new ServedMeasurement(load, cpu, peak, server.DatabasePath, backlog?.Result);
    }

    /// <summary>Reads the store's unfolded backlog every half second from the files (a WAL reader beside the service).</summary>
    private sealed class BacklogSampler(string databasePath)
    {
        private readonly CancellationTokenSource _stop = new();
        private Task? _sampling;
        private readonly List<long> _series = [];
        private long _max, _last;
        private int _samples;

        public BacklogSamples? Result { get; private set; }

        public void Start() => _sampling = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Sample();
                try
                {
                    await Task.Delay(500, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        public void Stop()
        {
            _stop.Cancel();
            _sampling?.Wait();
            Sample();
            Result = new BacklogSamples(_max, _last, _samples, _series.Where((_, i) => i % 20 == 19).ToList());
        }

        private void Sample()
        {
            try
            {
                _last = StoreFiles.Pending(databasePath);
                _max = Math.Max(_max, _last);
                _samples++;
                _series.Add(_last);
            }
            catch (Microsoft.Data.Sqlite.SqliteException)
            {
                // Busy for a moment: the next sample counts.
            }
        }
    }

    /// <summary>The report row common to every served phase, plus the checks every load must pass.</summary>
    public static PhaseResult ToResult(Phase phase, string title, ServedMeasurement m, IEnumerable<string> extraChecks, bool extraPassed, long? databaseBytes)
    {
        var load = m.Load;
        var checks = new List<string>
        {
            $"{load.WindowCalls:N0} OK calls in the window; {load.AcceptedTotal:N0} events accepted in all (warm-up and tail included), " +
            $"{load.DuplicatesTotal:N0} duplicates, {load.RejectedTotal:N0} rejected, {load.ShortCalls:N0} OK calls that did not accept every event",
        };
        checks.AddRange(load.Failures.OrderBy(f => f.Key).Select(f => $"non-OK: {StatusName(f.Key)} x {f.Value:N0}"));
        if (m.Backlog is { } backlog)
        {
            checks.Add($"unfolded backlog (acknowledged, not yet in the aggregates), sampled every 0.5 s in the window: max {backlog.Max:N0} events, " +
                $"{backlog.AtEnd:N0} when the window closed ({backlog.Samples} samples); every 10 s: " +
                string.Join(", ", backlog.EveryTenSeconds.Select(b => b.ToString("N0", System.Globalization.CultureInfo.InvariantCulture))));
        }

        checks.AddRange(extraChecks);
        return new PhaseResult
        {
            Phase = phase,
            Title = title,
            EventsPerSecond = load.EventsPerSecond,
            BatchesPerSecond = load.CallsPerSecond,
            P50Ms = load.P50Ms,
            P99Ms = load.P99Ms,
            ServerCores = m.Cpu.ServerCores,
            LoadGeneratorCores = m.Cpu.LoadGeneratorCores,
            MachineBusy = m.Cpu.MachineBusy,
            OtherCores = m.Cpu.OtherCores,
            PeakRssBytes = m.PeakRssBytes,
            DatabaseBytes = databaseBytes,
            Checks = checks,
            Passed = extraPassed && load.ShortCalls == 0 && load.DuplicatesTotal == 0 && load.RejectedTotal == 0 && load.WindowCalls > 0,
        };
    }

    private static string StatusName(int status) => status < 0
        ? "no grpc-status (transport error or not a gRPC answer)"
        : $"{(Service.Grpc.StatusCode)status} ({status})";
}
