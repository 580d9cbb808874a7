using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace HealthScoring.Service.Storage;

/// <summary>
/// Connections to the embedded SQLite store, each opened with the store's pragmas. WAL mode (set by the
/// migrations) lets readers run beside the single writer.
/// </summary>
internal sealed class SqliteStoreDataSource : DbDataSource
{
    private readonly string _connectionString;
    private readonly string _pragmas;
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> _initialised = new();

    /// <param name="busyTimeoutMs">How long a connection waits for another's write lock before SQLITE_BUSY.</param>
    /// <param name="cacheMiB">SQLite's page cache per connection (each pooled connection may fill its own).</param>
    public SqliteStoreDataSource(string connectionString, string synchronous, int busyTimeoutMs = 10_000, int cacheMiB = 8)
    {
        BusyTimeoutMs = busyTimeoutMs;
        var builder = new SqliteConnectionStringBuilder(connectionString)
        {
            Pooling = true,
            // Microsoft.Data.Sqlite retries a busy statement for the command timeout (seconds): keep it to the busy
            // timeout, so a locked store is refused after about that long (then retried by StoreResilience).
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(busyTimeoutMs / 1000.0)),
        };
        _connectionString = builder.ToString();
        var sync = synchronous.ToUpperInvariant() switch
        {
            "FULL" => "FULL",
            "NORMAL" => "NORMAL",
            _ => throw new InvalidOperationException($"HealthScoring:Storage:SqliteSynchronous must be Full or Normal, not '{synchronous}'."),
        };
        _pragmas = $"PRAGMA synchronous={sync}; PRAGMA busy_timeout={BusyTimeoutMs}; PRAGMA cache_size=-{cacheMiB * 1024}; PRAGMA temp_store=MEMORY;";
        FilePath = builder.DataSource;
    }

    public int BusyTimeoutMs { get; }

    /// <summary>The database file (relative paths are relative to the working directory).</summary>
    public string FilePath { get; }

    public override string ConnectionString => _connectionString;

    protected override DbConnection CreateDbConnection() => new SqliteConnection(_connectionString);

    protected override DbConnection OpenDbConnection()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Initialise(connection);
        return connection;
    }

    protected override async ValueTask<DbConnection> OpenDbConnectionAsync(CancellationToken cancellationToken = default)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        Initialise(connection);
        return connection;
    }

    /// <summary>
    /// The pragmas are per physical connection and survive in the pool, so they run once per SQLite handle,
    /// not on every open (on a busy read path they were a third of the database time per request).
    /// </summary>
    private void Initialise(SqliteConnection connection)
    {
        var handle = connection.Handle!;
        if (_initialised.TryGetValue(handle, out _))
        {
            return;
        }

        using var command = connection.CreateCommand();
        command.CommandText = _pragmas;
        command.ExecuteNonQuery();
        _initialised.AddOrUpdate(handle, this);
    }
}
