namespace HealthScoring.Bench.Phases;

/// <summary>One row of the report. NaN / null where a figure does not apply to the phase.</summary>
internal sealed record PhaseResult
{
    public required Phase Phase { get; init; }

    public required string Title { get; init; }

    public required double EventsPerSecond { get; init; }

    /// <summary>Calls (batches) per second; for the storage phase, commits per second of store time.</summary>
    public double BatchesPerSecond { get; init; } = double.NaN;

    /// <summary>Batch latency; for the storage phase, the latency of one commit.</summary>
    public double P50Ms { get; init; } = double.NaN;

    public double P99Ms { get; init; } = double.NaN;

    public double ServerCores { get; init; } = double.NaN;

    public double LoadGeneratorCores { get; init; } = double.NaN;

    public double MachineBusy { get; init; } = double.NaN;

    /// <summary>CPU used by other processes during the window, in cores: a disturbed run shows here.</summary>
    public double OtherCores { get; init; } = double.NaN;

    public long? PeakRssBytes { get; init; }

    public long? DatabaseBytes { get; init; }

    /// <summary>Verification and error lines, shown under the table.</summary>
    public IReadOnlyList<string> Checks { get; init; } = [];

    /// <summary>False when a check failed (the figures are then not to be trusted).</summary>
    public bool Passed { get; init; } = true;
}
