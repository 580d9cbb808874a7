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
    /// <param name="mmapMiB">How much of the file SQLite reads through a memory map (shared by every connection) rather than read calls; 0: none.</param>
    public SqliteStoreDataSource(string connectionString, string synchronous, int busyTimeoutMs = 10_000, int cacheMiB = 8, int mmapMiB = StorageOptions.DefaultSqliteMmapMiB)
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
        _pragmas = $"PRAGMA synchronous={sync}; PRAGMA busy_timeout={BusyTimeoutMs}; PRAGMA cache_size=-{cacheMiB * 1024}; PRAGMA temp_store=MEMORY; PRAGMA mmap_size={(long)Math.Clamp(mmapMiB, 0, 2047) * 1024 * 1024};";
        FilePath = builder.DataSource;
        JournalPath = JournalPathFor(FilePath);
        builder.DataSource = JournalPath;
        _journalConnectionString = builder.ToString();
    }

    private readonly string _journalConnectionString;

    /// <summary>
    /// The ingest journal beside the store (<c>healthscoring.ingest.db</c> for <c>healthscoring.db</c>): acknowledged
    /// events wait there to be folded into the store (<see cref="SqliteUsageStore"/>). A file of its own has a write
    /// lock of its own, so acknowledgements never wait for a fold or a scoring save.
    /// </summary>
    public string JournalPath { get; }

    /// <summary>The ingest journal's file beside a store file: <c>x.ingest.db</c> for <c>x.db</c>.</summary>
    public static string JournalPathFor(string storePath) =>
        Path.Combine(Path.GetDirectoryName(storePath) ?? "", Path.GetFileNameWithoutExtension(storePath) + ".ingest" + Path.GetExtension(storePath));

    /// <summary>A connection to the ingest journal, with the store's pragmas.</summary>
    public SqliteConnection OpenJournalConnection()
    {
        var connection = new SqliteConnection(_journalConnectionString);
        connection.Open();
        Initialise(connection);
        return connection;
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

    /// <summary>Connections kept for <see cref="ReadPreparedAsync{T}"/> at most (more under a burst are closed after use).</summary>
    private const int PreparedConnectionsKept = 32;

    private readonly System.Collections.Concurrent.ConcurrentBag<PreparedConnection> _prepared = [];

    /// <summary>
    /// Runs one hot, fixed read on a connection that keeps its prepared statements between calls: no statement
    /// parse, no pool round trip, no mapper metadata per request (a GET of a stored health document spent about a
    /// third of its database time preparing the same SELECT again). The statement is SQLite's own, bound by index
    /// (the provider's per-call lookups were a seventh of a GET). <paramref name="parameters"/> are bound by position
    /// (@p0, @p1, ... in <paramref name="sql"/>); <paramref name="read"/> maps the first row; null without one.
    /// </summary>
    public async Task<T?> ReadPreparedAsync<T>(string sql, object?[] parameters, Func<SqliteRow, T> read, CancellationToken cancellationToken)
        where T : class
    {
        if (!_prepared.TryTake(out var prepared))
        {
            prepared = new PreparedConnection((SqliteConnection)await OpenDbConnectionAsync(cancellationToken));
        }

        try
        {
            var result = prepared.ReadFirst(sql, parameters, read);
            if (_prepared.Count < PreparedConnectionsKept)
            {
                _prepared.Add(prepared);
                prepared = null;
            }

            return result;
        }
        finally
        {
            // Not returned (an error, or enough kept): closed, with its statements.
            prepared?.Dispose();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            while (_prepared.TryTake(out var prepared))
            {
                prepared.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        while (_prepared.TryTake(out var prepared))
        {
            prepared.Dispose();
        }

        await base.DisposeAsyncCore();
    }

    private sealed class PreparedConnection(SqliteConnection connection) : IDisposable
    {
        private readonly Dictionary<string, SQLitePCL.sqlite3_stmt> _statements = new(StringComparer.Ordinal);

        public T? ReadFirst<T>(string sql, object?[] parameters, Func<SqliteRow, T> read)
            where T : class
        {
            var db = connection.Handle!;
            if (!_statements.TryGetValue(sql, out var statement))
            {
                // ThrowExceptionForRC throws only for error codes (not OK, ROW or DONE).
                SqliteException.ThrowExceptionForRC(SQLitePCL.raw.sqlite3_prepare_v2(db, sql, out statement), db);
                _statements[sql] = statement;
            }

            try
            {
                for (var i = 0; i < parameters.Length; i++)
                {
                    SqliteException.ThrowExceptionForRC(PreparedCommand.BindSqlite(statement, i + 1, parameters[i]), db);
                }

                var rc = SQLitePCL.raw.sqlite3_step(statement);
                if (rc == SQLitePCL.raw.SQLITE_ROW)
                {
                    return read(new SqliteRow(statement));
                }

                SqliteException.ThrowExceptionForRC(rc, db);
                return null;
            }
            finally
            {
                // Ends the statement's read: no snapshot is held between calls (it would stop WAL checkpoints).
                SQLitePCL.raw.sqlite3_reset(statement);
            }
        }

        public void Dispose()
        {
            foreach (var statement in _statements.Values)
            {
                statement.Dispose();
            }

            connection.Dispose();
        }
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

/// <summary>The current row of a kept SQLite statement, read by column position (see SqliteStoreDataSource.ReadPreparedAsync).</summary>
internal readonly struct SqliteRow(SQLitePCL.sqlite3_stmt statement)
{
    public bool IsNull(int column) => SQLitePCL.raw.sqlite3_column_type(statement, column) == SQLitePCL.raw.SQLITE_NULL;

    public long Int64(int column) => SQLitePCL.raw.sqlite3_column_int64(statement, column);

    public string Text(int column) => SQLitePCL.raw.sqlite3_column_text(statement, column).utf8_to_string();

    /// <summary>A text column's UTF-8 as SQLite stores it (the default UTF-8 database encoding), or a blob's bytes.</summary>
    public byte[] Utf8(int column) => SQLitePCL.raw.sqlite3_column_blob(statement, column).ToArray();
}
