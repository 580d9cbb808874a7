using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;
using Polly;
using Polly.Retry;

namespace HealthScoring.Service.Storage;

/// <summary>
/// Which store errors are worth retrying, and the bounded retry for them: SQLite busy or locked (after its own
/// busy timeout), SQL Server deadlock victim, lock timeouts and the transient Azure/failover codes of PACKAGES.md.
/// Three retries with exponential backoff and jitter (about 0.1, 0.2, 0.4 s); then the caller answers UNAVAILABLE
/// or 503 and the client retries (nothing was stored).
/// </summary>
internal static class StoreResilience
{
    /// <summary>SQL Server error numbers that a retry can cure.</summary>
    public static readonly IReadOnlySet<int> TransientSqlServerErrors = new HashSet<int> { 1205, 1204, 1222, 4060, 40197, 40501, 40613, 49918, 49919, 49920 };

    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;

    public static bool IsTransient(Exception exception) => exception switch
    {
        SqliteException sqlite => sqlite.SqliteErrorCode is SqliteBusy or SqliteLocked,
        SqlException sql => sql.Errors.Cast<SqlError>().Any(e => TransientSqlServerErrors.Contains(e.Number)),
        _ => false,
    };

    public static ResiliencePipeline Retry { get; } = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
            MaxRetryAttempts = 3,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(100),
        })
        .Build();
}
