namespace HealthScoring.Bench.Load;

/// <summary>
/// What one load run measured. Rates and latencies cover the calls that completed inside the measurement
/// window; the totals cover every call (warm-up and the tail included), for checking the store afterwards.
/// </summary>
internal sealed record LoadResult(
    double WindowSeconds,
    long WindowCalls,
    long WindowEvents,
    double P50Ms,
    double P99Ms,
    double MaxMs,
    long AcceptedTotal,
    long DuplicatesTotal,
    long RejectedTotal,
    long ShortCalls,
    IReadOnlyDictionary<int, long> Failures)
{
    public double EventsPerSecond => WindowEvents / WindowSeconds;

    public double CallsPerSecond => WindowCalls / WindowSeconds;
}

/// <summary>One worker's tally; merged once the run is over, so workers never share a counter.</summary>
internal sealed class WorkerTally
{
    public Latencies Window { get; } = new();

    public long WindowCalls { get; private set; }

    public long WindowEvents { get; private set; }

    public long AcceptedTotal { get; private set; }

    public long DuplicatesTotal { get; private set; }

    public long RejectedTotal { get; private set; }

    /// <summary>OK calls that did not accept every event sent (all ids are unique, so this must stay 0).</summary>
    public long ShortCalls { get; private set; }

    public Dictionary<int, long> Failures { get; } = [];

    public void Record(CallResult result, int sent, bool inWindow, long elapsedTicks)
    {
        if (result.Status != 0)
        {
            Failures[result.Status] = Failures.GetValueOrDefault(result.Status) + 1;
            return;
        }

        AcceptedTotal += result.Accepted;
        DuplicatesTotal += result.Duplicates;
        RejectedTotal += result.Rejected;
        if (result.Accepted != sent)
        {
            ShortCalls++;
        }

        if (inWindow)
        {
            WindowCalls++;
            WindowEvents += result.Accepted;
            Window.Add(elapsedTicks);
        }
    }

    public static LoadResult Merge(IReadOnlyList<WorkerTally> tallies, double windowSeconds)
    {
        var latencies = new Latencies();
        var failures = new Dictionary<int, long>();
        foreach (var tally in tallies)
        {
            latencies.AddRange(tally.Window);
            foreach (var (status, count) in tally.Failures)
            {
                failures[status] = failures.GetValueOrDefault(status) + count;
            }
        }

        return new LoadResult(
            windowSeconds,
            tallies.Sum(t => t.WindowCalls),
            tallies.Sum(t => t.WindowEvents),
            latencies.PercentileMs(50),
            latencies.PercentileMs(99),
            latencies.PercentileMs(100),
            tallies.Sum(t => t.AcceptedTotal),
            tallies.Sum(t => t.DuplicatesTotal),
            tallies.Sum(t => t.RejectedTotal),
            tallies.Sum(t => t.ShortCalls),
            failures);
    }
}
