namespace HealthScoring.Service.Storage;

/// <summary>
/// The few places where portable SQL is not enough. Everything else is written once for both providers.
/// </summary>
internal sealed class SqlDialect(StoreProvider provider)
{
    public StoreProvider Provider { get; } = provider;

    /// <summary>Table hint that makes read-then-write race free on SQL Server (SQLite writers are serialised anyway).</summary>
    public string UpdateLock => Provider == StoreProvider.SqlServer ? "WITH (UPDLOCK, SERIALIZABLE)" : "";

    /// <summary>
    /// Makes SQLite read the accounts whose usage changed through their partial index (its planner prefers the
    /// primary key for ORDER BY account_id, i.e. a scan of every account); SQL Server's planner needs no hint.
    /// </summary>
    public string ChangedAccountsIndex => Provider == StoreProvider.Sqlite ? "INDEXED BY ix_accounts_usage_changed" : "";

    /// <summary>Row limit for a query ending in ORDER BY: <c>LIMIT n</c> or <c>OFFSET 0 ROWS FETCH NEXT n ROWS ONLY</c>.</summary>
    public string Limit(string parameter) =>
        Provider == StoreProvider.SqlServer ? $"OFFSET 0 ROWS FETCH NEXT {parameter} ROWS ONLY" : $"LIMIT {parameter}";
}
