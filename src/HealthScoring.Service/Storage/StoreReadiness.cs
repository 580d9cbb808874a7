namespace HealthScoring.Service.Storage;

/// <summary>Whether the store is migrated and reachable, and if not, why (shown by /readyz).</summary>
internal sealed class StoreReadiness
{
    private volatile string? _problem = "The store has not been initialised yet.";

    public bool IsReady => _problem is null;

    public string? Problem => _problem;

    public void MarkReady() => _problem = null;

    public void MarkNotReady(string problem) => _problem = problem;

    private volatile string? _writeProblem;

    /// <summary>Why the last write failed, until a write (or a write probe) succeeds again.</summary>
    public string? WriteProblem => _writeProblem;

    public void ReportWriteFailed(string problem) => _writeProblem = problem;

    public void ReportWriteSucceeded() => _writeProblem = null;
}
