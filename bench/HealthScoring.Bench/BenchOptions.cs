using System.Globalization;

namespace HealthScoring.Bench;

/// <summary>The phases of <c>ingest</c>, in the order they run.</summary>
internal enum Phase
{
    /// <summary>The real service (child process) with its SQLite store.</summary>
    E2E,

    /// <summary>The same gRPC layer and validation, events discarded: the protocol ceiling.</summary>
    Protocol,

    /// <summary>The whole ingest pipeline (writer, group commit) with a store that writes nothing: a diagnostic.</summary>
    NullStore,

    /// <summary>SqliteUsageStore alone, one writer, no service: the storage ceiling.</summary>
    Storage,
}

/// <summary>
/// <c>ingest</c> options. Defaults are the issue's workload: batches of 500 over 10,000 accounts,
/// 20 s per phase after a 5 s warm-up, 16 calls in flight, SQLite synchronous=FULL.
/// </summary>
internal sealed class BenchOptions
{
    public int Seconds { get; private set; } = 20;

    public int WarmupSeconds { get; private set; } = 5;

    public int Concurrency { get; private set; } = 16;

    /// <summary>HTTP/2 connections the load is spread over (each its own handler); 1 = every call on one connection.</summary>
    public int Connections { get; private set; } = 1;

    public int Batch { get; private set; } = 500;

    public int Accounts { get; private set; } = 10_000;

    public int UsersPerAccount { get; private set; } = 20;

    public int Names { get; private set; } = 12;

    /// <summary>Distinct pre-serialized batches; every send stamps fresh event ids into a copy of one.</summary>
    public int Templates { get; private set; } = 64;

    /// <summary>Events per commit in the storage phase (the service's MaxEventsPerCommit default).</summary>
    public int CommitEvents { get; private set; } = 20_000;

    public string Synchronous { get; private set; } = "Full";

    public IReadOnlyList<Phase> Phases { get; private set; } = [Phase.E2E, Phase.Protocol, Phase.Storage];

    /// <summary>The built service; default: src/HealthScoring.Service/bin/{this configuration}/net10.0.</summary>
    public string? ServiceDll { get; private set; }

    public static string Usage => """
        usage: HealthScoring.Bench ingest [--seconds 20] [--warmup 5] [--concurrency 16] [--connections 1]
                                          [--batch 500] [--accounts 10000] [--users-per-account 20] [--names 12]
                                          [--templates 64] [--commit-events 20000] [--synchronous Full|Normal]
                                          [--phases e2e,protocol,storage[,nullstore]] [--service-dll PATH]
               HealthScoring.Bench scoring [--accounts 100000] [--days 90] [--backfill-accounts 10000] [--wrk-seconds 20] [--connections 64]
               HealthScoring.Bench portfolio [--accounts 100000] [--months 36] [--runs 10]
               HealthScoring.Bench soak [--minutes 10] [--interval 30] [--events-per-second 5000] [--reads-per-second 100] [--accounts 2000] [--sqlite-cache-mib N]
               HealthScoring.Bench backtest [--accounts 10000] [--days 365]
               HealthScoring.Bench demo [--rest URL] [--grpc URL] [--key KEY] [--accounts 200] [--days 365] [--concurrency 4] [--batch 500] [--seed 7]
        """;

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            var value = i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value.\n{Usage}");
            switch (name)
            {
                case "--seconds": options.Seconds = Positive(name, value); break;
                case "--warmup": options.WarmupSeconds = Positive(name, value, allowZero: true); break;
                case "--concurrency": options.Concurrency = Positive(name, value); break;
                case "--connections": options.Connections = Positive(name, value); break;
                case "--batch": options.Batch = Positive(name, value); break;
                case "--accounts": options.Accounts = Positive(name, value); break;
                case "--users-per-account": options.UsersPerAccount = Positive(name, value); break;
                case "--names": options.Names = Math.Min(Positive(name, value), Workload.EventMix.All.Count); break;
                case "--templates": options.Templates = Positive(name, value); break;
                case "--commit-events": options.CommitEvents = Positive(name, value); break;
                case "--synchronous": options.Synchronous = ParseSynchronous(value); break;
                case "--phases": options.Phases = ParsePhases(value); break;
                case "--service-dll": options.ServiceDll = value; break;
                default: throw new ArgumentException($"Unknown option {name}.\n{Usage}");
            }
        }

        return options;
    }

    private static int Positive(string name, string value, bool allowZero = false) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && (n > 0 || (allowZero && n == 0))
            ? n
            : throw new ArgumentException($"{name} must be a {(allowZero ? "non-negative" : "positive")} integer, not '{value}'.");

    private static string ParseSynchronous(string value) => value.ToUpperInvariant() switch
    {
        "FULL" => "Full",
        "NORMAL" => "Normal",
        _ => throw new ArgumentException($"--synchronous must be Full or Normal, not '{value}'."),
    };

    private static Phase[] ParsePhases(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => Enum.TryParse<Phase>(p, ignoreCase: true, out var phase)
                ? phase
                : throw new ArgumentException($"Unknown phase '{p}': use e2e, protocol, nullstore, storage."))
            .Distinct()
            .Order()
            .ToArray();
}
