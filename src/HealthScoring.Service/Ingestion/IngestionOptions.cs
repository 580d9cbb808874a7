using System.ComponentModel.DataAnnotations;

namespace HealthScoring.Service.Ingestion;

/// <summary><c>HealthScoring:Ingestion</c>: what a batch may hold and how the writer behaves.</summary>
internal sealed class IngestionOptions
{
    public const string Section = "HealthScoring:Ingestion";

    /// <summary>Most events in one IngestRequest; more is INVALID_ARGUMENT for the whole call.</summary>
    [Range(1, 100_000)]
    public int MaxBatchEvents { get; set; } = 1000;

    /// <summary>How long (days after receipt) a retried event is still recognised as a duplicate.</summary>
    [Range(1, 3650)]
    public int IdempotencyDays { get; set; } = 30;

    /// <summary>Events that occurred longer ago than this are rejected.</summary>
    [Range(1, 3650)]
    public int AcceptedWindowDays { get; set; } = 400;

    /// <summary>Events further in the future than this (clock skew) are rejected.</summary>
    public TimeSpan MaxFutureSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Events waiting for the store beyond which new batches are refused with RESOURCE_EXHAUSTED.</summary>
    [Range(1000, 10_000_000)]
    public int MaxPendingEvents { get; set; } = 200_000;

    /// <summary>Most events written in one store transaction (one group commit).</summary>
    [Range(100, 1_000_000)]
    public int MaxEventsPerCommit { get; set; } = 20_000;

    /// <summary>
    /// Acknowledged events not yet folded into the usage aggregates beyond which new batches are refused with
    /// RESOURCE_EXHAUSTED: how far scores and usage may fall behind ingestion (SQLite; the events are durable).
    /// </summary>
    [Range(1000, 100_000_000)]
    public int MaxUnfoldedEvents { get; set; } = 2_000_000;

    /// <summary>
    /// While acknowledgements keep coming, the folder waits for this many events (or <see cref="FoldDelay"/>) before
    /// folding: large folds write each aggregate row once for many events, and a fold holds SQLite's write lock.
    /// </summary>
    [Range(1, 10_000_000)]
    public int MinEventsPerFold { get; set; } = 100_000;

    /// <summary>The longest an acknowledged event waits to be folded while acknowledgements keep coming.</summary>
    public TimeSpan FoldDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Most acknowledged events folded into the usage aggregates in one store transaction.</summary>
    [Range(100, 10_000_000)]
    public int MaxEventsPerFold { get; set; } = 200_000;

    /// <summary>The retry hint sent with RESOURCE_EXHAUSTED / UNAVAILABLE.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);
}
