using System.ComponentModel.DataAnnotations;

namespace HealthScoring.Service.Health;

/// <summary><c>HealthScoring:Scoring</c>: how the background scorer works.</summary>
internal sealed class ScoringOptions
{
    public const string Section = "HealthScoring:Scoring";

    /// <summary>
    /// How often the scorer looks for changed accounts: scores are fresh within about this plus one round's
    /// work (the promise is 60 s). An account that keeps receiving events is rescored once per interval, not
    /// once per event, so a longer interval leaves more of the machine to ingestion (measured: 2 s cost 40% of
    /// the ingest rate with 10,000 busy accounts).
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Accounts taken per round; their snapshots are written in one transaction.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 200;

    /// <summary>The oldest day history is kept and rebuilt for (matches the accepted event window).</summary>
    [Range(1, 3650)]
    public int HistoryDays { get; set; } = 400;

    /// <summary>Accounts scored in parallel (CPU work); 0 = one per core.</summary>
    [Range(0, 64)]
    public int Parallelism { get; set; }
}
