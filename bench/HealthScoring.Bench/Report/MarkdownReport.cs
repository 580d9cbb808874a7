using System.Globalization;
using System.Text;
using HealthScoring.Bench.Phases;
using HealthScoring.Bench.Workload;

namespace HealthScoring.Bench.Report;

/// <summary>The run as Markdown: workload, one table row per phase, the ceilings and the checks.</summary>
internal static class MarkdownReport
{
    public const double TargetEventsPerSecond = 150_000;

    public static string Render(BenchOptions options, BatchPool pool, MachineInfo machine, DateTimeOffset startedAt, IReadOnlyList<PhaseResult> results)
    {
        var text = new StringBuilder();
        Line(text, $"### Ingestion run {startedAt:yyyy-MM-dd HH:mm} UTC");
        Line(text);
        Line(text, $"- Machine: {machine}");
        Line(text, $"- Workload: batches of {options.Batch} events over {options.Accounts:N0} accounts ({options.UsersPerAccount} users each, " +
            $"{options.Names} event names), unique ids, {pool.AverageFrameLength / 1024:0.0} KiB per request; {options.Concurrency} unary calls in flight " +
            $"over {options.Connections} HTTP/2 connection(s); {options.WarmupSeconds} s warm-up, {options.Seconds} s measured per phase");
        Line(text);
        Line(text, "| Phase | Events/s | Batches/s | p50 ms | p99 ms | Server CPU (cores) | Load-gen CPU (cores) | Other CPU (cores) | Machine CPU busy | Server peak RSS | SQLite file |");
        Line(text, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            Line(text, $"| {r.Title}{(r.Passed ? "" : " **(check failed)**")} | {r.EventsPerSecond:N0} | {Fixed(r.BatchesPerSecond, "0.0")} | " +
                $"{Fixed(r.P50Ms, "0.0")} | {Fixed(r.P99Ms, "0.0")} | {Fixed(r.ServerCores, "0.00")} | {Fixed(r.LoadGeneratorCores, "0.00")} | {Fixed(r.OtherCores, "0.00")} | " +
                $"{Fixed(r.MachineBusy * 100, "0")}{(double.IsNaN(r.MachineBusy) ? "" : " %")} | {Mib(r.PeakRssBytes)} | {Mib(r.DatabaseBytes)} |");
        }

        Line(text);
        Line(text, "Server = the process answering gRPC (the service, or the `serve` child for the ceilings); load-gen = the benchmark process; " +
            "other = everything else on the machine during the window (well above 0 means the run was disturbed). CPU is in cores " +
            $"(of {Environment.ProcessorCount}). Storage row: batches/s, p50 and p99 are per commit, and the rate is over store time only.");
        Line(text);
        Ceilings(text, results);
        Line(text);
        foreach (var r in results)
        {
            foreach (var check in r.Checks)
            {
                Line(text, $"- {r.Phase}: {check}");
            }
        }

        return text.ToString();
    }

    private static void Ceilings(StringBuilder text, IReadOnlyList<PhaseResult> results)
    {
        var e2e = results.FirstOrDefault(r => r.Phase == Phase.E2E);
        var ceilings = results.Where(r => r.Phase is Phase.Protocol or Phase.Storage).ToList();
        if (e2e is not null)
        {
            Line(text, $"- End-to-end: **{e2e.EventsPerSecond:N0} events/s** against a target of {TargetEventsPerSecond:N0} " +
                $"({(e2e.EventsPerSecond >= TargetEventsPerSecond ? "met" : "NOT met")}, {e2e.EventsPerSecond / TargetEventsPerSecond:P0} of it).");
        }

        foreach (var c in ceilings)
        {
            Line(text, $"- {c.Phase} ceiling: {c.EventsPerSecond:N0} events/s.");
        }

        if (e2e is not null && ceilings.Count > 0)
        {
            var lower = ceilings.MinBy(c => c.EventsPerSecond)!;
            Line(text, $"- End-to-end / lower ceiling ({lower.Phase}): **{e2e.EventsPerSecond / lower.EventsPerSecond:P1}**.");
        }
    }

    private static string Fixed(double value, string format) => double.IsNaN(value) ? "–" : value.ToString(format, CultureInfo.InvariantCulture);

    private static string Mib(long? bytes) => bytes is { } b ? $"{b / (1024.0 * 1024):0} MiB" : "–";

    private static void Line(StringBuilder text, string line = "") => text.Append(line).Append('\n');
}
