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

    /// <summary>
    /// A list of keys as one parameter, for <c>IN</c>: on SQLite a JSON array read with <c>json_each</c>. Dapper's
    /// expansion of <c>IN @ids</c> into one parameter per key made Microsoft.Data.Sqlite look up every parameter by
    /// name among all the others (about a third of a full rescore's load time at 500 keys per query). SQL Server
    /// keeps Dapper's expansion (at most 2,100 parameters; the chunks stay below).
    /// </summary>
    public string InList(string parameter) =>
        Provider == StoreProvider.Sqlite ? $"(SELECT value FROM json_each({parameter}))" : parameter;

    /// <summary>The value for a parameter used with <see cref="InList"/>.</summary>
    public object Keys(IReadOnlyCollection<string> keys) =>
        Provider == StoreProvider.Sqlite ? System.Text.Json.JsonSerializer.Serialize(keys) : keys;

    /// <summary>Row limit for a query ending in ORDER BY: <c>LIMIT n</c> or <c>OFFSET 0 ROWS FETCH NEXT n ROWS ONLY</c>.</summary>
    public string Limit(string parameter) =>
        Provider == StoreProvider.SqlServer ? $"OFFSET 0 ROWS FETCH NEXT {parameter} ROWS ONLY" : $"LIMIT {parameter}";
}
